package deployer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer deploy DIR|ARCHIVE}: packs a model's folder (or takes an archive as it is), uploads it in one
 * streamed multipart request, and waits for READY or FAILED. Packing and progress go to stderr; the outcome to
 * stdout.
 */
@Command(name = "deploy", mixinStandardHelpOptions = true,
        description = {"Packs deploy.json and the files its \"files\" patterns mark deployable, uploads them in one "
                + "request, and waits until the model is READY or FAILED.",
                "Exit status: 0 READY, 1 FAILED or refused by the server, 2 bad arguments or no server."})
public final class DeployCommand extends ApiCommand {

    static final Duration POLL = Duration.ofMillis(200);

    @Parameters(paramLabel = "DIR|ARCHIVE", description = "A folder with deploy.json, or a .zip/.tar.gz package.")
    Path source;

    @Option(names = "--no-wait", description = "Return once the server has the package, with its deploy_id.")
    boolean noWait;

    @Option(names = "--beside", description = "Start the new version beside the active one (READY, no traffic): a"
            + " candidate for `deployer traffic` or X-Deployer-Version (DESIGN 1.11 ?activate=false).")
    boolean beside;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "How long to wait for READY or FAILED (default ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    /** Whether stderr is a terminal, for the progress bar; a test may turn it on. */
    boolean terminal = System.console() != null;

    @Override
    int run() throws IOException, InterruptedException {
        if (!Files.exists(source)) {
            throw CliFailure.usage(source + " does not exist");
        }
        if (Files.isDirectory(source)) {
            Packer.requireManifest(source);
        }
        Api api = api();
        // Before packing: a wrong token or a server that is not there must not cost the packing of 89 MiB first.
        api.check();
        Path archive;
        Map<String, String> stored = Map.of();
        long total = -1;
        long storedBytes = 0;
        boolean temporary = Files.isDirectory(source);
        String filename;
        if (temporary) {
            Packer.Packed packed = Packer.pack(source, jars -> alreadyOnServer(api, jars));
            report(packed);
            archive = packed.archive();
            filename = packed.manifest().name() + ".zip";
            stored = packed.stored();
            total = packed.bytes();
            storedBytes = packed.storedBytes();
        } else if (isArchive(source)) {
            archive = source;
            filename = source.getFileName().toString();
            err().println("uploading " + source + " as it is (a folder would be packed by its \"files\")");
        } else {
            throw CliFailure.usage(source + " is neither a folder with deploy.json nor a .zip or .tar.gz");
        }
        Map<String, Object> accepted;
        try {
            java.util.concurrent.atomic.LongAdder sent = new java.util.concurrent.atomic.LongAdder();
            accepted = upload(api, archive, filename, stored, sent);
            if (total >= 0) {
                err().println("sent " + Output.size(sent.sum()) + " of " + Output.size(total) + " ("
                        + Output.size(storedBytes) + " already on the server)");
            }
        } finally {
            if (temporary) {
                Files.deleteIfExists(archive);
            }
        }
        String who = accepted.get("model") + " v" + accepted.get("version");
        if (noWait) {
            if (json) {
                out().println(deployer.core.Json.writeString(accepted));
            } else {
                out().println(who + " accepted: deploy_id " + accepted.get("deploy_id") + "; `deployer status "
                        + accepted.get("deploy_id") + "` shows how it goes");
            }
            return 0;
        }
        err().println("uploaded " + who + " (deploy_id " + accepted.get("deploy_id") + "); waiting for READY ...");
        return await(api, accepted.get("deploy_id"));
    }

    /**
     * Asks the server which of the package's jars it keeps ({@code POST /api/libs/missing}), so only the others are
     * sent; a server without the call keeps none.
     */
    private static java.util.Set<String> alreadyOnServer(Api api, Map<String, String> jars) {
        Api.Response reply = api.post("/api/libs/missing", deployer.core.Json.writeString(
                Map.of("sha256", new java.util.ArrayList<>(new java.util.LinkedHashSet<>(jars.values())))));
        if (reply.status() != 200 || !(reply.object().get("missing") instanceof java.util.List<?> missing)) {
            return java.util.Set.of();
        }
        java.util.Set<String> there = new java.util.HashSet<>();
        jars.forEach((path, sha) -> {
            if (!missing.contains(sha)) {
                there.add(path);
            }
        });
        return there;
    }

    private Map<String, Object> upload(Api api, Path archive, String filename, Map<String, String> stored,
                                       java.util.concurrent.atomic.LongAdder sent) throws IOException {
        long size = Files.size(archive);
        Progress progress = new Progress(err(), terminal, filename, size, System::currentTimeMillis);
        Upload body = new Upload(archive, filename, stored, n -> {
            sent.add(n);
            progress.add(n);
        });
        Api.Response reply;
        try {
            reply = api.upload(beside ? "/api/deployments?activate=false" : "/api/deployments", body);
        } finally {
            progress.finish();
        }
        return reply.orFail().object();
    }

    private int await(Api api, Object deployId) throws InterruptedException {
        long started = System.nanoTime();
        long deadline = started + Duration.ofSeconds(timeoutSeconds).toNanos();
        while (true) {
            Api.Response reply = api.get("/api/deployments/" + deployId).orFail();
            Map<String, Object> d = reply.object();
            String state = String.valueOf(d.get("state"));
            if (!state.equals("STARTING")) {
                double seconds = (System.nanoTime() - started) / 1e9;
                if (json) {
                    printJson(reply);
                } else if (state.equals("READY")) {
                    out().println(Output.outcome(d));
                    out().printf(Locale.ROOT, "deploy_id %s, ready in %.1f s; score it with:%n", deployId, seconds);
                    out().println("  deployer predict " + d.get("model") + " '<json>'");
                    out().println("  curl -X POST --data '<json>' " + d.get("url") + "/predict");
                }
                if (!state.equals("READY")) {
                    fail(Output.outcome(d));
                    return CliFailure.FAILED;
                }
                return 0;
            }
            if (System.nanoTime() > deadline) {
                throw CliFailure.failed("deploy_id " + deployId + " is still STARTING after " + timeoutSeconds
                        + " s; `deployer status " + deployId + "` shows how it goes");
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private void report(Packer.Packed packed) {
        err().println("packed " + Output.count(packed.packed().size(), "file") + " ("
                + Output.size(packed.bytes()) + "): " + Output.names(packed.packed()));
        if (!packed.leftOut().isEmpty()) {
            err().println("left out " + Output.count(packed.leftOut().size(), "file")
                    + " not marked deployable by \"files\": " + Output.names(packed.leftOut()));
        }
        if (packed.manifest().files().isEmpty()) {
            err().println("warning: deploy.json has no \"files\", so only deploy.json is sent; add e.g. "
                    + "\"files\": [\"serving/*.java\", \"model/*\", \"lib/*.jar\"]");
        }
        for (String pattern : packed.unmatched()) {
            err().println("warning: \"files\" pattern " + Target.quote(pattern) + " matches no file");
        }
    }

    static boolean isArchive(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(file) && (name.endsWith(".zip") || name.endsWith(".tar.gz")
                || name.endsWith(".tgz"));
    }
}
