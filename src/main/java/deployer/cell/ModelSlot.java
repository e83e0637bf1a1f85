package deployer.cell;

import deployer.core.DeployerException;
import deployer.pack.Manifest;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A model's fixed place: its port and the cell that answers there. The active cell is one reference, swapped by
 * compare-and-set; candidates (versions starting beside it) answer only the server's pings. Lifecycle operations on
 * one model run one after the other; different models never wait for each other.
 */
public final class ModelSlot {

    /** The header a ping carries to reach a candidate cell rather than the active one. */
    public static final String CELL_HEADER = "X-Deployer-Cell";

    private static final int ENTER_TRIES = 4;

    private final String name;
    private final AtomicReference<Cell> active = new AtomicReference<>();
    private final Map<Long, Cell> cells = new ConcurrentHashMap<>();
    private final Object lifecycleLock = new Object();
    private CompletableFuture<?> lifecycle = CompletableFuture.completedFuture(null);
    private final AtomicInteger pending = new AtomicInteger();
    private volatile String doing = "";
    private volatile int port;
    private final CellThreads threads;
    /** READY versions serving beside the active one (a traffic split, a candidate), by version. */
    private final Map<Integer, Cell> beside = new ConcurrentHashMap<>();
    /** Versions a traffic split names: one of them swapped out by an activation keeps serving beside. */
    private volatile java.util.Set<Integer> kept = java.util.Set.of();
    private volatile ScoringTap tap;

    ModelSlot(String name) {
        this.name = name;
        this.threads = new CellThreads("cell-" + name);
    }

    public String name() {
        return name;
    }

    /** The bound port, or 0 when nothing listens. */
    public int port() {
        return port;
    }

    void port(int bound) {
        this.port = bound;
    }

    /**
     * The first step of the scoring path: admits one request to the active cell, before a byte of its body is read.
     * Throws a 503 when no version is READY or every request slot ({@code limits.max_concurrent}) is taken.
     */
    public Call admit(String requestId) {
        return admit(requestId, VersionChoice.ACTIVE);
    }

    /**
     * Admits one request to the version {@code choice} names: a version that is not serving is a 404 when the client
     * pinned it, else the active version takes the request. A cell closing under it (a split changed) makes the
     * choice be asked again, so the request lands on a version of the new split.
     */
    public Call admit(String requestId, VersionChoice choice) {
        for (int i = 0; i < ENTER_TRIES; i++) {
            int version = choice.version();
            Cell cell = version == VersionChoice.ACTIVE_VERSION ? active.get() : serving(version);
            if (cell == null && choice.pinned()) {
                throw DeployerException.notFound("version " + version + " of model " + name + " is not serving;"
                        + " GET /api/models/" + name + "/traffic lists those that are");
            }
            if (cell == null) {
                cell = active.get();
            }
            if (cell == null) {
                throw DeployerException.unavailable("model " + name + " has no version READY; see GET /api/models/"
                        + name);
            }
            // A cell swapped out between get() and enter() refuses; the next get() sees its successor.
            Call call = Call.admit(cell, requestId);
            if (call != null) {
                return call;
            }
        }
        throw DeployerException.unavailable("model " + name + " is being replaced; retry shortly");
    }

    /** The threads of this model's port ({@link CellThreads}); the port's connector runs on them. */
    public CellThreads threads() {
        return threads;
    }

    /**
     * The health of the active cell, or of the cell named by {@code instance} (a candidate the server pings before
     * swapping it in): the body of {@code /health}, whose {@code status} is UP or DOWN.
     */
    public Map<String, Object> health(Long instance, long timeoutMs) {
        Cell cell = instance == null ? active.get() : cells.get(instance);
        if (cell == null) {
            return Map.of("status", "DOWN", "model", name, "error",
                    instance == null ? "no version is READY" : "no cell " + instance);
        }
        return cell.health(timeoutMs);
    }

    Cell active() {
        return active.get();
    }

    /** The cell answering for {@code version} now (the active one or one beside it), or null. */
    Cell serving(int version) {
        Cell now = active.get();
        if (now != null && now.id().version() == version) {
            return now;
        }
        return beside.get(version);
    }

    /** The active version's number, or 0 when none serves. */
    public int activeVersion() {
        Cell now = active.get();
        return now == null ? 0 : now.id().version();
    }

    /** The versions serving beside the active one. */
    public java.util.Set<Integer> besideVersions() {
        return java.util.Set.copyOf(beside.keySet());
    }

    /** Whether {@code version} answers requests now (active or beside). */
    public boolean serves(int version) {
        return serving(version) != null;
    }

    /** The health of the cell serving {@code version}, as {@link #health} answers it. */
    public Map<String, Object> healthOf(int version, long timeoutMs) {
        Cell cell = serving(version);
        return cell == null ? Map.of("status", "DOWN", "model", name, "error", "version " + version
                + " is not serving") : cell.health(timeoutMs);
    }

    /** Keeps {@code cell} serving beside the active one; returns the cell it replaced for its version, if any. */
    Cell standby(Cell cell) {
        cells.put(cell.id().instance(), cell);
        Cell previous = beside.put(cell.id().version(), cell);
        if (previous != null && previous != cell) {
            cells.remove(previous.id().instance(), previous);
        }
        return previous;
    }

    /** Takes {@code version}'s cell out of the ones beside; returns it (null when none). */
    Cell unstandby(int version) {
        Cell cell = beside.remove(version);
        if (cell != null) {
            cells.remove(cell.id().instance(), cell);
        }
        return cell;
    }

    /** The versions a traffic split names now (set by the traffic package on every change). */
    public void keep(java.util.Set<Integer> versions) {
        this.kept = java.util.Set.copyOf(versions);
    }

    boolean keeps(int version) {
        return kept.contains(version);
    }

    /** What is told of every answered request (shadow, payload records); null for nothing. */
    public void tap(ScoringTap listener) {
        this.tap = listener;
    }

    public ScoringTap tap() {
        return tap;
    }

    /** Requests being scored by the active cell now. */
    public int inFlight() {
        Cell cell = active.get();
        return cell == null ? 0 : cell.inFlight();
    }

    void addCandidate(Cell cell) {
        cells.put(cell.id().instance(), cell);
    }

    void removeCandidate(Cell cell) {
        cells.remove(cell.id().instance(), cell);
    }

    /** Makes {@code next} the active cell; returns the one it replaced (null when none). */
    Cell swap(Cell next) {
        Cell previous = active.getAndSet(next);
        if (previous != null) {
            cells.remove(previous.id().instance(), previous);
        }
        // The port's threads may hold thread-locals of the cell that served until now: they go as they come free.
        threads.renew(next == null ? Manifest.Limits.DEFAULT_MAX_CONCURRENT
                : next.manifest().limits().maxConcurrent());
        return previous;
    }

    /** Clears the active cell if it is still {@code expected}. */
    boolean clear(Cell expected) {
        if (active.compareAndSet(expected, null)) {
            cells.remove(expected.id().instance(), expected);
            threads.renew(Manifest.Limits.DEFAULT_MAX_CONCURRENT);
            return true;
        }
        return false;
    }

    /**
     * Runs an operation a user asked for (stop, start, restart, activate, delete) after those queued before it. It
     * makes no sense while another is under way, so then it is refused with a 409 that says what is going on.
     */
    <T> CompletableFuture<T> exclusively(String what, Executor executor, Supplier<CompletableFuture<T>> operation) {
        if (!pending.compareAndSet(0, 1)) {
            throw DeployerException.conflict("model " + name + " is busy (" + doing + "); try again when it is done");
        }
        doing = what;
        return enqueue(executor, operation);
    }

    /** Queues an operation behind the others: two uploads at once both go through, one after the other. */
    <T> CompletableFuture<T> queued(String what, Executor executor, Supplier<CompletableFuture<T>> operation) {
        pending.incrementAndGet();
        doing = what;
        return enqueue(executor, operation);
    }

    /** Whether an operation is queued or running. */
    boolean busy() {
        return pending.get() > 0;
    }

    Collection<Cell> cells() {
        return cells.values();
    }

    private <T> CompletableFuture<T> enqueue(Executor executor, Supplier<CompletableFuture<T>> operation) {
        synchronized (lifecycleLock) {
            CompletableFuture<T> next = lifecycle.handle((r, e) -> null)
                    .thenComposeAsync(ignored -> operation.get(), executor);
            next.whenComplete((r, e) -> pending.decrementAndGet());
            lifecycle = next;
            return next;
        }
    }
}
