package deployer.cell;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.pack.Manifest;
import deployer.pack.ScriptCompiler;
import deployer.pack.SpiJar;
import deployer.runtime.Runtimes;
import deployer.spi.Model;
import deployer.spi.Reply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * One package loaded and scored in this process, with no database and no HTTP server ({@code deployer run}): the
 * server's own steps — compile {@code serving/*.java} against the SPI jar, build the cell's class loader, create the
 * model, {@code load()} it under its deadline — then the stages of one request, each timed.
 */
public final class LocalRun implements AutoCloseable {

    /** One step and how long it took. */
    public record Stage(String name, long nanos) {
    }

    /**
     * What one request got.
     *
     * @param status the reply's HTTP status
     * @param contentType its content type
     * @param body its bytes
     * @param stages prepare, score and reply, timed
     */
    public record Outcome(int status, String contentType, byte[] body, List<Stage> stages) {

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** A step failed; the message says which and why, with the model's own stack frames. */
    public static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    private final Manifest manifest;
    private final ScheduledExecutorService scheduler;
    private final Cell cell;
    private final List<Stage> startup;
    private final ModelLogs logs = new ModelLogs(false);

    private LocalRun(Manifest manifest, ScheduledExecutorService scheduler, Cell cell, List<Stage> startup) {
        this.manifest = manifest;
        this.scheduler = scheduler;
        this.cell = cell;
        this.startup = startup;
    }

    /**
     * Compiles, loads and readies the package in {@code folder} (a folder of deployable files only: it gets a
     * {@code .deployer/} of compiled classes); {@code work} holds the SPI jar. A {@code "runtime"} package gets the
     * runtime's jars as on the server: its own {@code lib/onnxruntime-*.jar}, else the newest one in
     * {@code runtimes} (a server's {@code <data>/runtimes}).
     *
     * @throws Failure when a step fails, saying which
     */
    public static LocalRun open(Path folder, Path work, Path runtimes) {
        Manifest manifest;
        try {
            manifest = Manifest.parse(Files.readAllBytes(folder.resolve("deploy.json")));
        } catch (IOException e) {
            throw new Failure("cannot read " + folder.resolve("deploy.json") + ": " + e.getMessage());
        } catch (DeployerException e) {
            throw new Failure("deploy.json: " + e.getMessage());
        }
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deployer-run-deadlines");
            t.setDaemon(true);
            return t;
        });
        List<Stage> startup = new ArrayList<>();
        Cell cell = null;
        try {
            // The runtimes are only read here: a package's lib/onnxruntime-*.jar is not adopted into the folder, which
            // may be a server's (Runtimes.adopt would write there), so the factory gets a read-only view of it.
            CellFactory factory = new CellFactory(new ScriptCompiler(SpiJar.write(work.resolve("deployer-spi.jar"))),
                    CellObserver.NONE, new Deadlines(scheduler), Runtimes.readOnly(runtimes));
            long started = System.nanoTime();
            boolean compiled;
            try {
                compiled = factory.compile(folder);
            } catch (DeployerException e) {
                throw new Failure(e.getMessage());
            }
            if (compiled) {
                startup.add(new Stage("compile", System.nanoTime() - started));
            }
            started = System.nanoTime();
            cell = factory.create(new CellId(manifest.name(), 1, 0, 1), manifest, folder);
            startup.add(new Stage("create", System.nanoTime() - started));
            started = System.nanoTime();
            LocalRun run = new LocalRun(manifest, scheduler, cell, startup);
            cell.load(CellContext.of(manifest.name(), 1, folder, manifest.properties(),
                    run.logs.logger(manifest.name(), 1)));
            startup.add(new Stage("load", System.nanoTime() - started));
            return run;
        } catch (Cell.CellFailure e) {
            close(cell, scheduler);
            throw new Failure(e.getMessage());
        } catch (RuntimeException | Error e) {
            close(cell, scheduler);
            throw e;
        }
    }

    public Manifest manifest() {
        return manifest;
    }

    /** compile (when there were scripts), create, load. */
    public List<Stage> startup() {
        return List.copyOf(startup);
    }

    /** What the model wrote to its logger after line {@code since} (0 for all). */
    public List<ModelLogs.Line> logLines(long since) {
        return logs.since(manifest.name(), since, ModelLogs.LINES_PER_CELL);
    }

    /** The manifest's {@code health.sample}, or null. */
    public Object sample() {
        return manifest.health().sample();
    }

    /**
     * The stages of one request with {@code body} as its JSON, on a thread whose context loader is the cell's, as
     * on the server. Input the model rejects answers 400 with its message, as the server would.
     *
     * @throws Failure when the model's code throws anything else, with its stack frames
     */
    public Outcome score(byte[] body) {
        CellRequest request = new CellRequest("application/json", body, Map.of("Content-Type",
                List.of("application/json")));
        Model model = cell.model();
        List<Stage> stages = new ArrayList<>();
        Object input;
        try {
            input = timed("prepare", stages, () -> model.prepare(request));
        } catch (IllegalArgumentException e) {
            return rejected(e, stages);
        }
        Object prediction;
        try {
            prediction = timed("score", stages, () -> model.score(input));
        } catch (CellRequest.BadInputException e) {
            return rejected(e, stages);
        } catch (IllegalArgumentException e) {
            throw new Failure("score() failed: " + ModelTrace.describe(e));
        }
        Reply reply;
        try {
            reply = timed("reply", stages, () -> model.reply(prediction));
        } catch (IllegalArgumentException e) {
            throw new Failure("reply() failed: " + ModelTrace.describe(e));
        }
        if (reply == null) {
            throw new Failure("reply() returned null");
        }
        if (!reply.isJson()) {
            return new Outcome(reply.status(), reply.contentType(), reply.body(), stages);
        }
        try {
            return new Outcome(reply.status(), reply.contentType(), Json.write(reply.value()), stages);
        } catch (IOException | RuntimeException e) {
            throw new Failure("the reply cannot be written as JSON (use Map, List, String, numbers, booleans): "
                    + Cell.describe(e));
        }
    }

    private static Outcome rejected(IllegalArgumentException e, List<Stage> stages) {
        String message = e instanceof CellRequest.BadInputException ? e.getMessage()
                : "the model rejected the input: " + e.getMessage();
        return new Outcome(400, "application/json", Json.writeString(Map.of("error", message))
                .getBytes(StandardCharsets.UTF_8), stages);
    }

    private <T> T timed(String stage, List<Stage> stages, Callable<T> call) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(cell.loader());
        long started = System.nanoTime();
        try {
            return call.call();
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception | Error e) {
            throw new Failure(stage + "() failed: " + ModelTrace.describe(e));
        } finally {
            stages.add(new Stage(stage, System.nanoTime() - started));
            thread.setContextClassLoader(previous);
        }
    }

    @Override
    public void close() {
        close(cell, scheduler);
    }

    private static void close(Cell cell, ScheduledExecutorService scheduler) {
        if (cell != null) {
            cell.close(1000);
        }
        scheduler.shutdownNow();
    }
}
