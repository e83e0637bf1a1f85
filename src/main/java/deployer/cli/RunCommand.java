package deployer.cli;

import deployer.core.Json;
import deployer.cell.LocalRun;
import deployer.cell.ModelLogs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer run DIR [--input JSON]}: the package as {@code deploy} would send it (the same {@code files}),
 * compiled, loaded and scored in this process with the server's cell code — no server, no database — printing each
 * stage's time on stderr and the reply on stdout.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Loads a model folder in this process, as the server would (the same \"files\", compile, "
                + "class loader and load()), scores its health.sample or --input, and prints each stage's time.",
                "No server and no database. Exit status: 0 answered, 1 a step failed or the reply is an error."})
public final class RunCommand extends ClientCommand {

    @Parameters(paramLabel = "DIR", description = "A folder with deploy.json.")
    Path source;

    @Option(names = "--input", paramLabel = "JSON",
            description = "The request body (default: the health.sample of deploy.json), or @FILE.")
    String input;

    @Option(names = "--data", paramLabel = "DIR",
            description = "A server's data folder, whose runtimes/ gives a \"runtime\" package its ONNX Runtime when"
                    + " the package carries none (default: DEPLOYER_DATA, else ./" + Target.DEFAULT_DATA + ").")
    Path data;

    @Override
    int run() throws IOException {
        if (!Files.isDirectory(source)) {
            throw CliFailure.usage(Target.display(source) + " is not a folder with deploy.json");
        }
        Packer.requireManifest(source);
        Path work = Files.createTempDirectory("deployer-run-");
        try {
            Packer.Packed packed = Packer.pack(source);
            Path folder = work.resolve("package");
            try {
                err().println("packed " + Output.count(packed.packed().size(), "file") + " ("
                        + Output.size(packed.bytes()) + ") as deploy would: " + Output.names(packed.packed()));
                if (!packed.leftOut().isEmpty()) {
                    err().println("left out " + Output.count(packed.leftOut().size(), "file")
                            + " not marked deployable by \"files\": " + Output.names(packed.leftOut()));
                }
                unzip(packed.archive(), folder);
            } finally {
                Files.deleteIfExists(packed.archive());
            }
            byte[] body = body(packed);
            LocalRun run;
            try {
                run = LocalRun.open(folder, work, runtimes());
            } catch (LocalRun.Failure e) {
                throw CliFailure.failed(e.getMessage());
            }
            try (run) {
                long seen = logs(run, 0);
                print(run.startup());
                LocalRun.Outcome outcome;
                try {
                    outcome = run.score(body);
                } finally {
                    logs(run, seen);
                }
                print(outcome.stages());
                err().println("status " + outcome.status() + " " + outcome.contentType());
                out().println(outcome.text().strip());
                return outcome.status() < 400 ? 0 : CliFailure.FAILED;
            } catch (LocalRun.Failure e) {
                err().flush();
                throw CliFailure.failed(e.getMessage());
            }
        } finally {
            delete(work);
        }
    }

    /** Where a no-code package's runtime jars come from, as on a server with that data folder. */
    private Path runtimes() {
        String fromEnv = env.get("DEPLOYER_DATA");
        Path folder = data != null ? data : fromEnv != null && !fromEnv.isBlank() ? Path.of(fromEnv)
                : Path.of(Target.DEFAULT_DATA);
        return folder.resolve("runtimes");
    }

    private byte[] body(Packer.Packed packed) throws IOException {
        if (input != null) {
            if (input.startsWith("@")) {
                Path file = Path.of(input.substring(1));
                if (!Files.isRegularFile(file)) {
                    throw CliFailure.usage("cannot read " + file + ": no such file");
                }
                return Files.readAllBytes(file);
            }
            return input.getBytes(StandardCharsets.UTF_8);
        }
        Object sample = packed.manifest().health().sample();
        if (sample == null) {
            throw CliFailure.usage("deploy.json has no health.sample to score: pass --input JSON");
        }
        return Json.writeString(sample).getBytes(StandardCharsets.UTF_8);
    }

    /** The model's own log lines after {@code since}, on stderr as the server's log would show them. */
    private long logs(LocalRun run, long since) {
        long last = since;
        for (ModelLogs.Line line : run.logLines(since)) {
            err().println(line.level() + " " + line.model() + " v" + line.version() + " - " + line.message());
            last = line.seq();
        }
        return last;
    }

    private void print(List<LocalRun.Stage> stages) {
        for (LocalRun.Stage stage : stages) {
            err().println(String.format(Locale.ROOT, "%-8s %9.1f ms", stage.name(), stage.nanos() / 1e6));
        }
    }

    /** Our own zip, just written: its names are the deployable paths, already checked by the packer. */
    private static void unzip(Path archive, Path into) throws IOException {
        Files.createDirectories(into);
        try (InputStream file = Files.newInputStream(archive); ZipInputStream zip = new ZipInputStream(file)) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                Path target = into.resolve(entry.getName()).normalize();
                if (!target.startsWith(into) || entry.isDirectory()) {
                    continue;
                }
                Files.createDirectories(target.getParent());
                Files.copy(zip, target);
            }
        }
    }

    private static void delete(Path folder) {
        try (Stream<Path> walk = Files.walk(folder)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // a temporary folder left behind is not worth failing the run for
        }
    }
}
