package deployer.cell;

import deployer.core.DeployerException;
import deployer.pack.Manifest;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scoring request on its way through the one scoring path, from admission to the status sent: the cell port,
 * the gateway, the Open Inference Protocol on either port and the health sample all go through it, and adapt only
 * what comes in and what goes out. Admission ({@code limits.max_concurrent}, the cell being there) happens before
 * the body is read; the body's deadline ({@code limits.body_timeout_ms}) and the scoring deadline
 * ({@code limits.timeout_ms}) are watched here; {@link #finish} meters and logs the request once, with the status
 * the client was really sent.
 */
public final class Call {

    /** One line per scoring request: model, version, status, latency, request id. */
    private static final Logger ACCESS = LoggerFactory.getLogger("deployer.access");

    private final Cell cell;
    private final Cell.Permit permit;
    private final String requestId;
    private final long start = System.nanoTime();
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile boolean scored;
    private volatile Deadlines.Entry bodyTimer;

    private Call(Cell cell, Cell.Permit permit, String requestId) {
        this.cell = cell;
        this.permit = permit;
        this.requestId = requestId;
    }

    /**
     * Admits one request to {@code cell}: null when the cell is closing (its successor may take it); a 503 when
     * every request slot is taken, metered and logged as sent.
     */
    static Call admit(Cell cell, String requestId) {
        if (!cell.enter()) {
            return null;
        }
        Cell.Permit permit;
        try {
            permit = cell.acquire();
        } catch (DeployerException e) {
            cell.exit();
            record(cell, e.kind().status(), 0, requestId);
            throw e;
        }
        return new Call(cell, permit, requestId);
    }

    public String model() {
        return cell.id().model();
    }

    public int version() {
        return cell.id().version();
    }

    public Manifest manifest() {
        return cell.manifest();
    }

    /** The largest body this model takes ({@code limits.max_body_mb}), in bytes. */
    public long maxBodyBytes() {
        return cell.manifest().limits().maxBodyBytes();
    }

    /** The 413 of a body over {@link #maxBodyBytes}, said the same wherever the body arrives. */
    public DeployerException bodyTooLarge() {
        return DeployerException.tooLarge("the request body is over " + (maxBodyBytes() >> 20) + " MiB, the limit of"
                + " model " + model() + " (limits.max_body_mb); send smaller batches");
    }

    /**
     * The model's reply value as JSON, written by its cell's mapper: for a route whose request was
     * {@link CellRequest#answeredAsValue answered as a value} and that needs the bytes after all.
     */
    public byte[] json(Object value) {
        return cell.json(value);
    }

    public String requestId() {
        return requestId;
    }

    /**
     * Runs {@code onTimeout} once {@code limits.body_timeout_ms} has passed, unless {@link #bodyRead} comes first.
     * It runs on the timer's thread and must be quick.
     */
    public void watchBody(Runnable onTimeout) {
        long ms = cell.manifest().limits().bodyTimeoutMs();
        bodyTimer = cell.deadlines().add(start + TimeUnit.MILLISECONDS.toNanos(ms), onTimeout);
    }

    /** The body is all there (or reading it ended): its deadline no longer applies. */
    public void bodyRead() {
        Deadlines.Entry timer = bodyTimer;
        if (timer != null) {
            cell.deadlines().remove(timer);
        }
    }

    /**
     * Scores the request: {@link Cell#submit}, the answer or failure to {@code then} exactly once. A cell shutting
     * down throws instead.
     *
     * @param onThisThread whether the model's code may run on this thread (a thread of the model's own port)
     */
    public void score(CellRequest request, boolean onThisThread, BiConsumer<? super CellResponse, ? super Throwable> then) {
        scored = true;
        cell.submit(request, onThisThread, permit, then);
    }

    /**
     * The request is done, answered {@code status} (what the client was really sent); idempotent. Gives back its
     * slot if it was never scored, ends its share of the cell's drain, meters and logs it.
     */
    public void finish(int status) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        bodyRead();
        if (!scored) {
            permit.release();
        }
        cell.exit();
        record(cell, status, System.nanoTime() - start, requestId);
    }

    private static void record(Cell cell, int status, long nanos, String requestId) {
        cell.meter().record(status, nanos);
        if (ACCESS.isInfoEnabled()) {
            // Built here rather than by the logger's "{}" formatting: no argument array, no boxing, one pass.
            ACCESS.info(new StringBuilder(80).append(cell.id().model()).append(" v").append(cell.id().version())
                    .append(' ').append(status).append(' ').append(nanos / 1000).append(" us id=")
                    .append(requestId).toString());
        }
    }
}
