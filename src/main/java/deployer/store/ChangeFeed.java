package deployer.store;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the change feed ({@link Changes}) by polling the next numbers every {@code every} on the caller's
 * scheduler, handing each change of a known kind to the listener, in order, once.
 *
 * <p>Polling rather than PostgreSQL's {@code LISTEN}/{@code NOTIFY}: it runs the same on H2 and PostgreSQL, needs no
 * connection held outside the pool, and loses nothing while the database is away — a notification sent while a
 * listener is disconnected is gone, so a listener would have to poll after every reconnect anyway. One indexed
 * query per interval per replica is the price; at the default 250 ms a change reaches every replica well within
 * the 5 s of DESIGN 1.12.
 */
public final class ChangeFeed implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);

    public static final Duration DEFAULT_EVERY = Duration.ofMillis(250);
    private static final int BATCH = 500;

    private final Changes changes;
    private final Consumer<Change> listener;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long cursor;
    private volatile boolean failing;
    private ScheduledFuture<?> task;

    /** A feed that hands on the changes after number {@code after} (usually {@link Changes#last()} at start). */
    public ChangeFeed(Changes changes, long after, Consumer<Change> listener) {
        this.changes = changes;
        this.cursor = after;
        this.listener = listener;
    }

    /** Polls every {@code every} on {@code scheduler} until {@link #close()}. */
    public synchronized ChangeFeed start(ScheduledExecutorService scheduler, Duration every) {
        task = scheduler.scheduleWithFixedDelay(this::pollQuietly, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** The number of the last change handed on (or skipped as unknown). */
    public long cursor() {
        return cursor;
    }

    /** Reads and hands on what is new; returns how many changes were handed on. */
    public int poll() {
        int handed = 0;
        while (!closed.get()) {
            List<Change> batch = changes.since(cursor, BATCH);
            for (Change change : batch) {
                if (change.kind().isPresent()) {
                    try {
                        listener.accept(change);
                        handed++;
                    } catch (RuntimeException e) {
                        // The change is passed over, not retried forever: the next change of that model reconciles
                        // it again from the rows.
                        log.error("change feed: handling change {} ({} {}) failed", change.id(), change.code(),
                                change.model(), e);
                    }
                } else {
                    log.debug("change {} of kind '{}' (from {}) is unknown to this server; skipped", change.id(),
                            change.code(), change.node());
                }
                cursor = change.id();
            }
            if (batch.size() < BATCH) {
                break;
            }
        }
        return handed;
    }

    /** The loop's body: a failing database is said once, and its return once, never a stack trace per poll. */
    private void pollQuietly() {
        try {
            poll();
            if (failing) {
                failing = false;
                log.info("change feed: the database answers again; following from change {}", cursor);
            }
        } catch (StoreException e) {
            if (!failing) {
                failing = true;
                log.warn("change feed: cannot read changes ({}); retrying", e.reason());
            }
        } catch (RuntimeException e) {
            log.error("change feed: reading changes after {} failed", cursor, e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        if (task != null) {
            task.cancel(false);
        }
    }
}
