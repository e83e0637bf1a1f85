package deployer.cli;

import deployer.pack.Manifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The commands on one model by name: {@code stop}, {@code start}, {@code restart}, {@code activate} (each answers
 * the deployment object; exit 1 when the model ends FAILED), {@code undeploy} and {@code predict}.
 */
public final class ModelCommands {

    private ModelCommands() {
    }

    /** A POST on {@code /api/models/NAME/...} that answers the deployment object. */
    abstract static class OnModel extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "The model's name.")
        String name;

        /** The API path after {@code /api/models/NAME}. */
        abstract String action();

        @Override
        int run() {
            checkName(name);
            Api.Response reply = api().post("/api/models/" + name + action()).orFail();
            Map<String, Object> d = reply.object();
            if (json) {
                printJson(reply);
            } else if (reply.status() == 202) {
                out().println(name + ": still working; `deployer list` shows the outcome");
            } else {
                out().println(Output.outcome(d));
            }
            return "FAILED".equals(d.get("state")) ? CliFailure.FAILED : 0;
        }
    }

    /** {@code deployer stop NAME}. */
    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stops the model's cell; its port stops answering until `deployer start`.")
    public static final class Stop extends OnModel {
        @Override
        String action() {
            return "/stop";
        }
    }

    /** {@code deployer start NAME}. */
    @Command(name = "start", mixinStandardHelpOptions = true, description = "Starts a stopped model, on its port.")
    public static final class Start extends OnModel {
        @Override
        String action() {
            return "/start";
        }
    }

    /** {@code deployer restart NAME}. */
    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Restarts the model's cell: a new class loader, and load() runs again.")
    public static final class Restart extends OnModel {
        @Override
        String action() {
            return "/restart";
        }
    }

    /** {@code deployer activate NAME VERSION}: roll back or forward to an uploaded version (a hot swap). */
    @Command(name = "activate", mixinStandardHelpOptions = true,
            description = "Makes an uploaded version the one that serves (roll back or forward, without a gap).")
    public static final class Activate extends OnModel {

        @Parameters(index = "1", paramLabel = "VERSION", description = "The version number: 1, 2, 3 …")
        int version;

        @Override
        String action() {
            if (version < 1) {
                throw CliFailure.usage("VERSION must be 1 or more, not " + version);
            }
            return "/versions/" + version + "/activate";
        }
    }

    /** {@code deployer undeploy NAME [--purge]}: stops the model and removes it. */
    @Command(name = "undeploy", mixinStandardHelpOptions = true,
            description = "Stops the model and removes it from the server.")
    public static final class Undeploy extends ApiCommand {

        @Parameters(paramLabel = "NAME", description = "The model's name.")
        String name;

        @Option(names = "--purge", description = "Also delete its uploaded files from the server's disk.")
        boolean purge;

        @Option(names = "--version", paramLabel = "V",
                description = "Delete only this version, which must not be serving (FAILED, RETIRED, or stopped and "
                        + "not active): its record and files go, the model stays.")
        Integer version;

        @Override
        int run() {
            checkName(name);
            if (version != null) {
                if (version < 1) {
                    throw CliFailure.usage("--version must be 1 or more, not " + version);
                }
                if (purge) {
                    throw CliFailure.usage("--purge goes with a whole model; a deleted version's files always go");
                }
                Api.Response reply = api().delete("/api/models/" + name + "/versions/" + version).orFail();
                if (json) {
                    out().println(reply.body().isBlank() ? "{\"name\":\"" + name + "\",\"version\":" + version
                            + ",\"deleted\":true}" : reply.body().strip());
                } else {
                    out().println(name + " version " + version + " deleted, with its files");
                }
                return 0;
            }
            Api.Response reply = api().delete("/api/models/" + name + (purge ? "?purge=true" : "")).orFail();
            if (json) {
                out().println(reply.body().isBlank() ? "{\"name\":\"" + name + "\",\"undeployed\":true}"
                        : reply.body().strip());
            } else if (reply.status() == 202) {
                out().println(name + ": still stopping; `deployer list` shows when it is gone");
            } else {
                out().println(name + " undeployed" + (purge ? ", its files deleted" : ""));
            }
            return 0;
        }
    }

    /** {@code deployer predict NAME JSON}: scores through the main port, as the model's own clients do. */
    @Command(name = "predict", mixinStandardHelpOptions = true,
            description = {"Sends JSON to the model's /predict and prints its answer.",
                    "Exit status 1 when the model answers an error (e.g. 400 for input it cannot use)."})
    public static final class Predict extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "The model's name.")
        String name;

        @Parameters(index = "1", paramLabel = "JSON",
                description = "The request body, or @FILE to read it from a file.")
        String input;

        @Override
        int run() throws IOException {
            checkName(name);
            byte[] body;
            if (input.startsWith("@")) {
                Path file = Path.of(input.substring(1));
                if (!Files.isRegularFile(file)) {
                    throw CliFailure.usage("cannot read " + file + ": no such file");
                }
                body = Files.readAllBytes(file);
            } else {
                body = input.getBytes(StandardCharsets.UTF_8);
            }
            Api.Response reply = api().predict(name, body);
            if (!reply.ok()) {
                if (json) {
                    printJson(reply);
                }
                throw CliFailure.failed(name + ": " + reply.error() + " (HTTP " + reply.status() + ")");
            }
            out().println(reply.body().strip());
            return 0;
        }
    }

    static void checkName(String name) {
        if (!Manifest.NAME.matcher(name).matches()) {
            throw CliFailure.usage("model name " + Target.quote(name) + " must match " + Manifest.NAME.pattern());
        }
    }
}
