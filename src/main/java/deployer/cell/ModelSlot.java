package deployer.cell;

import deployer.DeployerException;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model's fixed place: its port and the cell that answers there. The active cell is one reference, swapped by
 * compare-and-set; candidates (versions starting beside it) answer only the server's pings. Lifecycle operations on
 * one model run one after the other; different models never wait for each other.
 */
public final class ModelSlot {

    /** The header a ping carries to reach a candidate cell rather than the active one. */
    public static final String CELL_HEADER = "X-Deployer-Cell";

    private static final int ENTER_TRIES = 4;
    /** One line per scoring request: model, version, status, latency, request id. */
    private static final Logger ACCESS = LoggerFactory.getLogger("deployer.access");

    private final String name;
    private final AtomicReference<Cell> active = new AtomicReference<>();
    private final Map<Long, Cell> cells = new ConcurrentHashMap<>();
    private final Object lifecycleLock = new Object();
    private CompletableFuture<?> lifecycle = CompletableFuture.completedFuture(null);
    private final AtomicInteger pending = new AtomicInteger();
    private volatile String doing = "";
    private volatile int port;

    ModelSlot(String name) {
        this.name = name;
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
     * Scores one request on the active cell, waiting for the answer: on the cell's worker, so this thread answers the
     * deadline's 504 in time even when the model's code does not return.
     */
    public Answer predict(CellRequest request) {
        return Cell.await(then -> predict(request, false, then));
    }

    /**
     * Scores one request on the active cell, then calls {@code then} once with the answer, or with the failure (a
     * {@link DeployerException}, a 504 as soon as {@code limits.timeout_ms} passes): on the calling thread when the
     * server lends it to the cell, else on the cell's worker, never making the caller wait for a worker. What cannot
     * be admitted — no cell, no free slot — throws at once instead, and {@code then} is not called.
     */
    public void predict(CellRequest request, BiConsumer<? super Answer, ? super Throwable> then) {
        predict(request, true, then);
    }

    private void predict(CellRequest request, boolean borrow, BiConsumer<? super Answer, ? super Throwable> then) {
        for (int i = 0; i < ENTER_TRIES; i++) {
            Cell cell = active.get();
            if (cell == null) {
                throw DeployerException.unavailable("model " + name + " has no version READY; see GET /api/models/"
                        + name);
            }
            // A cell swapped out between get() and enter() refuses; the next get() sees its successor.
            if (cell.enter()) {
                long start = System.nanoTime();
                try {
                    cell.submit(request, borrow, (done, failure) -> {
                        finished(cell, request, start, failure == null ? done.status() : statusOf(failure));
                        then.accept(done, failure);
                    });
                } catch (RuntimeException e) {
                    finished(cell, request, start, statusOf(e));
                    throw e;
                }
                return;
            }
        }
        throw DeployerException.unavailable("model " + name + " is being replaced; retry shortly");
    }

    private void finished(Cell cell, CellRequest request, long start, int status) {
        cell.exit();
        long nanos = System.nanoTime() - start;
        cell.meter().record(status, nanos);
        if (ACCESS.isInfoEnabled()) {
            // Built here rather than by the logger's "{}" formatting: no argument array, no boxing, one pass.
            ACCESS.info(new StringBuilder(80).append(name).append(" v").append(cell.id().version()).append(' ')
                    .append(status).append(' ').append(nanos / 1000).append(" us id=").append(request.requestId())
                    .toString());
        }
    }

    /** The status a failure of scoring answers. */
    public static int statusOf(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return cause instanceof DeployerException known ? known.kind().status() : 500;
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
        return previous;
    }

    /** Clears the active cell if it is still {@code expected}. */
    boolean clear(Cell expected) {
        if (active.compareAndSet(expected, null)) {
            cells.remove(expected.id().instance(), expected);
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
