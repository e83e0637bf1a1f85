package deployer.cell;

import deployer.CrashPoints;
import deployer.DeployerException;
import deployer.Settings.PortRange;
import deployer.pack.Manifest;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.State;
import deployer.store.Store;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one cell beside whatever serves now: compile, load, bind the model's port, ping the new cell through it,
 * score the sample, and only then swap it in. A failure on the way leaves the serving cell untouched.
 */
final class CellStarter {

    private static final Logger log = LoggerFactory.getLogger(CellStarter.class);

    private final Store store;
    private final CellFactory factory;
    private final PortBinder binder;
    private final PortRange ports;
    private final String pingHost;
    private final Pinger pinger;
    private final Unloader unloader;
    private final Executor executor;
    private final long drainMs;
    private final CellObserver observer;
    private final CrashPoints crash;
    private final AtomicLong instances = new AtomicLong();
    private final ModelLogs logs;

    CellStarter(Store store, CellFactory factory, PortBinder binder, PortRange ports, String pingHost, Pinger pinger,
                Unloader unloader, Executor executor, long drainMs, CellObserver observer, CrashPoints crash,
                ModelLogs logs) {
        this.logs = logs;
        this.crash = crash;
        this.observer = observer;
        this.store = store;
        this.factory = factory;
        this.binder = binder;
        this.ports = ports;
        this.pingHost = pingHost;
        this.pinger = pinger;
        this.unloader = unloader;
        this.executor = executor;
        this.drainMs = drainMs;
    }

    /**
     * Starts a cell of {@code d}; always completes normally, with the deployment as it ends up: READY, FAILED, or
     * (when a restart of the serving version fails) still READY on its old cell with the failure in {@code error}.
     */
    CompletableFuture<Deployment> start(Deployment d, Path folder, ModelSlot slot) {
        long started = System.nanoTime();
        CellId id = new CellId(d.model(), d.version(), d.deployId(), instances.incrementAndGet());
        Cell cell = null;
        int port;
        Manifest manifest;
        try {
            manifest = Manifest.parse(d.manifest().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (Files.isDirectory(folder.resolve("serving"))) {
                event(d, "compiling", "compiling serving/*.java");
                if (factory.compile(folder)) {
                    event(d, "compiled", "serving scripts compiled");
                }
            }
            event(d, "loading", "creating the model and calling load()");
            cell = factory.create(id, manifest, folder);
            cell.load(CellContext.of(d.model(), d.version(), folder, manifest.properties(),
                    logs.logger(d.model(), d.version())));
            event(d, "loaded", "load() returned in " + millisSince(started) + " ms");
            crash.reach(CrashPoints.AFTER_LOAD, d.version());
            observer.loaded(d.model(), d.version(), System.nanoTime() - started);
            port = ensureBound(slot);
            slot.addCandidate(cell);
        } catch (Throwable t) {
            return CompletableFuture.completedFuture(failed(d, cell, slot, reasonOf(t), 0));
        }
        Cell candidate = cell;
        URI health = URI.create("http://" + hostForUri(pingHost) + ":" + port + "/health");
        return pinger.untilUp(health, id.instance(), manifest.health(), (attempt, of, up, detail) ->
                        event(d, "ping", "ping " + attempt + " of " + of + ": " + detail))
                .handleAsync((attempts, error) -> {
                    if (error != null) {
                        Throwable cause = unwrap(error);
                        int tried = cause instanceof Pinger.NoAnswer noAnswer ? noAnswer.attempts : 0;
                        return failed(d, candidate, slot, reasonOf(cause), tried);
                    }
                    try {
                        candidate.scoreSample();
                    } catch (Throwable t) {
                        return failed(d, candidate, slot, reasonOf(t), attempts);
                    }
                    return promote(d, candidate, slot, port, attempts, started);
                }, executor);
    }

    private Deployment promote(Deployment d, Cell cell, ModelSlot slot, int port, int attempts, long started) {
        crash.reach(CrashPoints.BEFORE_SWAP, d.version());
        Cell previous = slot.swap(cell);
        boolean restart = previous != null && previous.id().deployId() == d.deployId();
        crash.reach(CrashPoints.AFTER_SWAP, d.version());
        store.activate(d.model(), d.deployId(), port, attempts, restart);
        crash.reach(CrashPoints.AFTER_ACTIVATE, d.version());
        event(d, "ready", "READY on port " + port + " in " + millisSince(started) + " ms"
                + (restart ? " (a fresh cell of the same version)" : ""));
        log.info("{} - READY on port {}", cell.id(), port);
        observer.started(d.model(), true, System.nanoTime() - started);
        if (restart) {
            observer.restarted(d.model());
        }
        if (previous != null) {
            executor.execute(() -> retire(previous, restart));
        }
        return store.deployment(d.deployId()).orElseThrow();
    }

    private void retire(Cell cell, boolean restart) {
        long start = System.nanoTime();
        CellId id = cell.id();
        unloader.unload(cell, drainMs);
        store.event(id.model(), id.version(), id.deployId(), restart ? "replaced" : "retired",
                "old cell drained and closed in " + millisSince(start) + " ms");
    }

    private Deployment failed(Deployment d, Cell cell, ModelSlot slot, String reason, int attempts) {
        if (cell != null) {
            slot.removeCandidate(cell);
            unloader.unload(cell, 0);
        }
        Cell serving = slot.active();
        if (serving == null) {
            // Nothing else serves this model: stop listening rather than answer 503 forever on its port.
            binder.unbind(slot);
            slot.port(0);
        }
        if (serving != null && serving.id().deployId() == d.deployId()) {
            // A restart of the serving version failed: its old cell keeps serving, and the row says so.
            store.setError(d.deployId(), "restart failed: " + reason);
            event(d, "restart-failed", reason);
            log.warn("{} v{} - restart failed, the running cell keeps serving: {}", d.model(), d.version(), reason);
            return store.deployment(d.deployId()).orElseThrow();
        }
        log.warn("{} v{} - FAILED: {}", d.model(), d.version(), reason);
        observer.started(d.model(), false, 0);
        return fail(d, reason, attempts);
    }

    Deployment fail(Deployment d, String reason, int attempts) {
        store.updateState(d.deployId(), State.FAILED, null, attempts, reason);
        event(d, "failed", reason);
        return store.deployment(d.deployId()).orElseThrow();
    }

    /** Binds the model's port if it is not bound yet: the one it had, else the first free one of the range. */
    private int ensureBound(ModelSlot slot) {
        if (slot.port() != 0) {
            return slot.port();
        }
        ModelRecord model = store.model(slot.name()).orElseThrow();
        List<Integer> candidates = new ArrayList<>();
        if (model.port() != null && ports.contains(model.port())) {
            candidates.add(model.port());
        }
        if (ports.isAny()) {
            candidates.add(0);
        } else {
            Set<Integer> taken = new HashSet<>(store.portsTakenByOthers(slot.name()));
            for (int p = ports.first(); p <= ports.last(); p++) {
                if (!taken.contains(p) && !candidates.contains(p)) {
                    candidates.add(p);
                }
            }
        }
        String lastError = "every port of the range is kept by another model";
        for (int candidate : candidates) {
            try {
                int bound = binder.bind(slot, candidate);
                slot.port(bound);
                if (model.port() == null || model.port() != bound) {
                    store.setPort(slot.name(), bound);
                }
                return bound;
            } catch (IOException e) {
                lastError = "port " + candidate + ": " + e.getMessage();
            }
        }
        throw new Cell.CellFailure("no free port in --cell-ports " + ports + " for model " + slot.name() + " ("
                + lastError + ")");
    }

    private void event(Deployment d, String kind, String message) {
        store.event(d.model(), d.version(), d.deployId(), kind, message);
    }

    static String reasonOf(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof DeployerException || cause instanceof Cell.CellFailure
                || cause instanceof Pinger.NoAnswer) {
            return cause.getMessage();
        }
        log.error("unexpected failure while starting a cell", cause);
        return "internal error: " + Cell.describe(cause);
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private static String hostForUri(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }
}
