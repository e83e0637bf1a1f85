package deployer.cell;

import deployer.core.Hosts;
import deployer.core.CrashPoints;
import deployer.core.DeployerException;
import deployer.core.Settings.PortRange;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one cell beside whatever serves now: compile, load, bind the model's port, ping the new cell through it,
 * score the sample, and only then swap it in. A failure on the way leaves the serving cell untouched.
 *
 * <p>A start can be cancelled ({@link #cancel}) at any step before the swap: compile and ping are waited for
 * together with the cancel signal, and {@code load()} is interrupted. The starting thread itself is never
 * interrupted — it talks to the database, and an interrupt during H2's file I/O closes the database.
 */
final class CellStarter {

    private static final Logger log = LoggerFactory.getLogger(CellStarter.class);
    static final long CANCELLED_CLOSE_MS = 2_000;
    private static final String STOPPING = "the server is stopping";
    private volatile boolean stopping;
    /** The version models are told they are ({@code ModelContext.version()}); 0: their own. */
    private volatile int presentedVersion;

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
    /** The start under way per model (starts of one model run one after the other). */
    private final ConcurrentMap<String, Starting> starting = new ConcurrentHashMap<>();

    /** One start under way: cancelled, or past the point of no return (being swapped in), never both. */
    static final class Starting {
        final long deployId;
        final CompletableFuture<String> cancelled = new CompletableFuture<>();
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        private boolean promoting;

        Starting(long deployId) {
            this.deployId = deployId;
        }

        /** Cancels unless the cell is already being swapped in; returns whether it did. */
        synchronized boolean cancel(String why) {
            if (promoting) {
                return false;
            }
            cancelled.complete(why);
            return true;
        }

        /** Claims the swap unless cancelled; returns whether it may go on. */
        synchronized boolean promote() {
            if (cancelled.isDone()) {
                return false;
            }
            promoting = true;
            return true;
        }

        boolean isCancelled() {
            return cancelled.isDone();
        }
    }

    /** Why a start was given up: the message is the deployment's error. */
    static final class Cancelled extends RuntimeException {
        Cancelled(String message) {
            super(message, null, false, false);
        }
    }
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
        return start(d, folder, slot, false);
    }

    /**
     * The same; with {@code beside}, the cell once ready serves beside the active one (READY, no traffic unless a
     * split or a pin sends it some) instead of replacing it. With no active cell it simply becomes the active one.
     */
    CompletableFuture<Deployment> start(Deployment d, Path folder, ModelSlot slot, boolean beside) {
        return start(d, folder, slot, beside, false);
    }

    /**
     * A replica's own cell of a version another server made READY (or a replica's restart of its own cell): the same
     * steps, but the rows stay as they are — the outcome is this server's alone, said in its events and logs.
     */
    CompletableFuture<Deployment> startLocal(Deployment d, Path folder, ModelSlot slot) {
        return start(d, folder, slot, false, true);
    }

    /**
     * A replica's own cell of a version READY beside the active one elsewhere (a traffic split's, a shadow's, a
     * candidate's): it serves beside this replica's active cell, and the rows stay as they are.
     */
    CompletableFuture<Deployment> startLocalBeside(Deployment d, Path folder, ModelSlot slot) {
        return start(d, folder, slot, true, true);
    }

    private CompletableFuture<Deployment> start(Deployment d, Path folder, ModelSlot slot, boolean beside,
                                                boolean local) {
        Starting run = new Starting(d.deployId());
        starting.put(d.model(), run);
        CompletableFuture<Deployment> outcome;
        try {
            // Registered first, read second: a cancel either finds this start to signal, or its FAILED row is read
            // here. A start queued behind others begins only if its row still asks for it (a cancel, FAILED, or a
            // delete, no row, that came while it waited has the last word).
            Deployment now = store.deployment(d.deployId()).orElse(null);
            if (stopping || now == null || (now.state() != State.STARTING && now.state() != State.READY)) {
                starting.remove(d.model(), run);
                return CompletableFuture.completedFuture(now == null ? d : now);
            }
            outcome = steps(d, folder, slot, run, beside, local);
        } catch (RuntimeException | Error e) {
            starting.remove(d.model(), run);
            throw e;
        }
        outcome.whenComplete((r, e) -> {
            starting.remove(d.model(), run);
            run.ended.complete(null);
        });
        return outcome;
    }

    /** Tells every model it loads that it is {@code version} (a child of a process cell: the server's number). */
    void presentVersion(int version) {
        this.presentedVersion = version;
    }

    /**
     * Gives up the start of {@code deployId} if it is under way, unless its cell is already being swapped in; returns
     * false only in that last case. A start still queued needs nothing: it finds its row FAILED and does not begin.
     */
    boolean cancel(String model, long deployId, String why) {
        Starting run = starting.get(model);
        return run == null || run.deployId != deployId || run.cancel(why);
    }

    /** The row first (compare-and-set STARTING to FAILED), then the signal to the start under way, if any. */
    boolean cancelStart(Deployment d, String why) {
        if (!store.fail(d.deployId(), State.STARTING, d.attempts(), why)) {
            return false;
        }
        event(d, "cancelled", why);
        cancel(d.model(), d.deployId(), why);
        return true;
    }

    /** Gives up whatever start of {@code model} is under way, e.g. a restart, before the model is deleted. */
    void cancelAny(String model, String why) {
        Starting run = starting.get(model);
        if (run != null) {
            run.cancel(why);
        }
    }

    /**
     * The server is stopping: every start under way is given up, its row left as it is (STARTING, brought back by
     * the next start), and this waits up to {@code waitMs} for them to finish giving up.
     */
    void stopAll(long waitMs) {
        stopping = true;
        List<CompletableFuture<?>> ending = new ArrayList<>();
        for (Starting run : starting.values()) {
            run.cancel(STOPPING);
            ending.add(run.ended);
        }
        try {
            CompletableFuture.allOf(ending.toArray(CompletableFuture[]::new)).get(waitMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            log.warn("starts still under way {} ms after the stop began", waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private CompletableFuture<Deployment> steps(Deployment d, Path folder, ModelSlot slot, Starting run,
                                                boolean beside, boolean local) {
        long started = System.nanoTime();
        CellId id = new CellId(d.model(), d.version(), d.deployId(), instances.incrementAndGet());
        Cell cell = null;
        int port;
        Manifest manifest;
        try {
            manifest = Manifest.parse(d.manifest().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (!Files.isDirectory(folder)) {
                throw new Cell.CellFailure("its files are missing from " + folder + "; upload it again");
            }
            if (Files.isDirectory(folder.resolve("serving"))) {
                event(d, "compiling", "compiling serving/*.java");
                long compileStart = System.nanoTime();
                if (untilCancelled(CompletableFuture.supplyAsync(() -> factory.compile(folder), executor), run)) {
                    event(d, "compiled", "serving scripts compiled in " + millisSince(compileStart) + " ms");
                }
            }
            checkCancelled(run);
            event(d, "loading", "creating the model and calling load()");
            cell = factory.create(id, manifest, folder);
            long loadStart = System.nanoTime();
            int told = presentedVersion > 0 ? presentedVersion : d.version();
            cell.load(CellContext.of(d.model(), told, folder, manifest.properties(),
                    logs.logger(d.model(), d.version())), run.cancelled);
            long loadNanos = System.nanoTime() - loadStart;
            checkCancelled(run);
            event(d, "loaded", "load() returned in " + TimeUnit.NANOSECONDS.toMillis(loadNanos) + " ms");
            crash.reach(CrashPoints.AFTER_LOAD, d.version());
            observer.loaded(d.model(), d.version(), loadNanos);
            port = ensureBound(slot);
            slot.addCandidate(cell);
        } catch (Throwable t) {
            return CompletableFuture.completedFuture(failed(d, cell, slot, reasonOf(t, run), 0, local));
        }
        Cell candidate = cell;
        URI health = URI.create("http://" + Hosts.forUri(pingHost) + ":" + port + "/health");
        CompletableFuture<Integer> pinged = pinger.untilUp(health, id.instance(), manifest.health(),
                (attempt, of, up, detail) -> event(d, "ping", "ping " + attempt + " of " + of + ": " + detail));
        CompletableFuture<Integer> pingedOrCancelled = new CompletableFuture<>();
        pinged.whenComplete((attempts, error) -> {
            if (error != null) {
                pingedOrCancelled.completeExceptionally(error);
            } else {
                pingedOrCancelled.complete(attempts);
            }
        });
        run.cancelled.thenAccept(why -> pingedOrCancelled.completeExceptionally(new Cancelled(why)));
        return pingedOrCancelled.handleAsync((attempts, error) -> {
                    if (error != null) {
                        Throwable cause = unwrap(error);
                        int tried = cause instanceof Pinger.NoAnswer noAnswer ? noAnswer.attempts : 0;
                        return failed(d, candidate, slot, reasonOf(cause, run), tried, local);
                    }
                    try {
                        candidate.scoreSample();
                    } catch (Throwable t) {
                        return failed(d, candidate, slot, reasonOf(t, run), attempts, local);
                    }
                    if (!run.promote()) {
                        return failed(d, candidate, slot, reasonOf(new Cancelled("cancelled"), run), attempts,
                                local);
                    }
                    Cell serving = slot.active();
                    if (beside && serving != null && serving.id().deployId() != d.deployId()) {
                        return standby(d, candidate, slot, port, attempts, started, local);
                    }
                    return promote(d, candidate, slot, port, attempts, started, local);
                }, executor);
    }

    /** Waits for {@code step}, or throws {@link Cancelled} as soon as the start is cancelled. */
    private static <T> T untilCancelled(CompletableFuture<T> step, Starting run) {
        CompletableFuture.anyOf(step, run.cancelled).join();
        checkCancelled(run);
        return step.join();
    }

    private static void checkCancelled(Starting run) {
        if (run.isCancelled()) {
            throw new Cancelled(run.cancelled.join());
        }
    }

    /** A cell READY beside the active one: it answers pins and splits, the active cell is untouched. */
    private Deployment standby(Deployment d, Cell cell, ModelSlot slot, int port, int attempts, long started,
                               boolean local) {
        // A replica's cell goes in only while the row still says the version serves beside; the deciding server's
        // row turns READY here.
        if (local ? !rowReady(d.deployId()) : !store.readyBeside(d.deployId(), port, attempts)) {
            log.info("{} v{} - cancelled while becoming ready beside the active version", d.model(), d.version());
            slot.removeCandidate(cell);
            unloader.unload(cell, 0);
            return store.deployment(d.deployId()).orElse(d);
        }
        Cell replaced = slot.standby(cell);
        if (replaced != null) {
            executor.execute(() -> retire(replaced, true));
        }
        event(d, "ready", "READY on port " + port + " beside the active version (no traffic until a split or"
                + " X-Deployer-Version sends it some) in " + millisSince(started) + " ms");
        log.info("{} - READY beside the active version on port {}", cell.id(), port);
        observer.started(d.model(), true, System.nanoTime() - started);
        return store.deployment(d.deployId()).orElseThrow();
    }

    private Deployment promote(Deployment d, Cell cell, ModelSlot slot, int port, int attempts, long started,
                               boolean local) {
        crash.reach(CrashPoints.BEFORE_SWAP, d.version());
        // A version serving beside that becomes the active one: its old cell goes once the new one is in.
        Cell oldBeside = slot.unstandby(d.version());
        Cell previous = slot.swap(cell);
        boolean restart = previous != null && previous.id().deployId() == d.deployId();
        // The version swapped out keeps serving when a traffic split names it (DESIGN 1.11).
        // A replica also keeps it when its row is still READY: the deciding server kept it (its split's route may
        // not have reached this replica yet).
        boolean keepPrevious = previous != null && !restart && (slot.keeps(previous.id().version())
                || local && rowReady(previous.id().deployId()));
        if (keepPrevious) {
            slot.standby(previous);
        }
        crash.reach(CrashPoints.AFTER_SWAP, d.version());
        java.util.List<Long> kept = new ArrayList<>();
        for (int v : slot.besideVersions()) {
            Cell c = slot.serving(v);
            if (c != null) {
                kept.add(c.id().deployId());
            }
        }
        if (!(local ? servesStill(d) : store.activate(d.model(), d.deployId(), port, attempts, restart, kept))) {
            if (keepPrevious) {
                slot.unstandby(previous.id().version());
            }
            // Cancelled (or deleted) just as it was being swapped in: the store is the truth, so what serves goes
            // back to what the store says.
            log.info("{} v{} - cancelled while being swapped in; the previous cell serves again", d.model(),
                    d.version());
            slot.clear(cell);
            if (previous != null) {
                slot.swap(previous);
            }
            if (oldBeside != null) {
                slot.standby(oldBeside);
            }
            unloader.unload(cell, 0);
            return store.deployment(d.deployId()).orElse(d);
        }
        crash.reach(CrashPoints.AFTER_ACTIVATE, d.version());
        event(d, "ready", "READY on port " + port + " in " + millisSince(started) + " ms"
                + (restart ? " (a fresh cell of the same version)" : ""));
        log.info("{} - READY on port {}", cell.id(), port);
        observer.started(d.model(), true, System.nanoTime() - started);
        if (restart) {
            observer.restarted(d.model());
        }
        if (previous != null && !keepPrevious) {
            executor.execute(() -> retire(previous, restart));
        }
        if (oldBeside != null) {
            executor.execute(() -> retire(oldBeside, true));
        }
        return store.deployment(d.deployId()).orElseThrow();
    }

    private boolean rowReady(long deployId) {
        return store.deployment(deployId).map(now -> now.state() == State.READY).orElse(false);
    }

    /** A replica's cell goes in only while the rows still say its version serves. */
    private boolean servesStill(Deployment d) {
        Deployment now = store.deployment(d.deployId()).orElse(null);
        Long active = store.model(d.model()).map(ModelRecord::activeDeployId).orElse(null);
        return now != null && now.state() == State.READY && active != null && active == d.deployId();
    }

    void retire(Cell cell, boolean restart) {
        long start = System.nanoTime();
        CellId id = cell.id();
        unloader.unload(cell, drainMs);
        store.event(id.model(), id.version(), id.deployId(), restart ? "replaced" : "retired",
                "old cell drained and closed in " + millisSince(start) + " ms");
    }

    private Deployment failed(Deployment d, Cell cell, ModelSlot slot, String reason, int attempts, boolean local) {
        boolean cancelled = reason.startsWith("cancelled");
        if (cell != null) {
            slot.removeCandidate(cell);
            // A cancelled cell's load() was interrupted; its close() gets a moment to clean up after it.
            unloader.unload(cell, cancelled ? CANCELLED_CLOSE_MS : 0);
        }
        if (stopping && reason.equals(STOPPING)) {
            // Not a failure of the version: the row stays as it is, and the next start takes it up again.
            log.info("{} v{} - start given up: {}", d.model(), d.version(), reason);
            return store.deployment(d.deployId()).orElse(d);
        }
        Cell serving = slot.active();
        if (serving == null) {
            // Nothing else serves this model: stop listening rather than answer 503 forever on its port.
            binder.unbind(slot);
            slot.port(0);
        }
        if (local) {
            // Not the version's failure but this replica's: the rows (and the other replicas) are left alone.
            event(d, "replica-failed", reason);
            log.warn("{} v{} - this replica's cell did not start: {}", d.model(), d.version(), reason);
            return store.deployment(d.deployId()).orElse(d);
        }
        if (serving != null && serving.id().deployId() == d.deployId()) {
            // A restart of the serving version failed (or was given up): its old cell keeps serving, and the row
            // says so.
            store.setError(d.deployId(), "restart failed: " + reason);
            event(d, "restart-failed", reason);
            log.warn("{} v{} - restart failed, the running cell keeps serving: {}", d.model(), d.version(), reason);
            return store.deployment(d.deployId()).orElseThrow();
        }
        if (cancelled) {
            log.info("{} v{} - {}", d.model(), d.version(), reason);
        } else {
            log.warn("{} v{} - FAILED: {}", d.model(), d.version(), reason);
        }
        observer.started(d.model(), false, 0);
        return fail(d, reason, attempts);
    }

    /**
     * Marks the deployment FAILED if it is still in the state it had when the start began; a cancel or a delete that
     * got there first keeps its say, and then no event is written.
     */
    Deployment fail(Deployment d, String reason, int attempts) {
        State from = store.deployment(d.deployId()).map(Deployment::state).orElse(null);
        if (from != null && from.canBecome(State.FAILED) && store.fail(d.deployId(), from, attempts, reason)) {
            event(d, "failed", reason);
        } else {
            log.debug("{} v{} - not marked FAILED ({}): it is {} now", d.model(), d.version(), reason, from);
        }
        return store.deployment(d.deployId()).orElse(d);
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

    private static String reasonOf(Throwable t, Starting run) {
        if (run.isCancelled()) {
            return run.cancelled.join();
        }
        return reasonOf(t);
    }

    static String reasonOf(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof Cancelled) {
            return cause.getMessage();
        }
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
}
