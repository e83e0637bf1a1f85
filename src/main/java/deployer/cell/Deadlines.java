package deployer.cell;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deadlines ({@code limits.timeout_ms}) of the requests being scored, all checked by one task every
 * {@value #TICK_MS} ms. A timer per request ({@code CompletableFuture.orTimeout}) put every request through the one
 * lock of the JDK's shared delay queue twice, to arm it and to cancel it; with 64 requests in flight the threads
 * queued on that lock, and it cost a sixth of the throughput of a trivial model (BENCHMARKS.md, row 1). Here a
 * request is added to and removed from a concurrent set, and a deadline is kept to within one tick.
 */
final class Deadlines implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Deadlines.class);

    static final long TICK_MS = 10;

    /** Something with a deadline: a request being scored. */
    interface Expiring {

        /** The {@link System#nanoTime()} past which it has failed. */
        long deadline();

        /** The deadline passed: fail it. Called once, on the sweeping thread. */
        void expire();
    }

    private final Set<Expiring> pending = ConcurrentHashMap.newKeySet();
    private final ScheduledFuture<?> sweeper;

    Deadlines(ScheduledExecutorService scheduler) {
        this.sweeper = scheduler.scheduleAtFixedRate(this::sweep, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    void add(Expiring expiring) {
        pending.add(expiring);
    }

    /** It finished (or failed) in time. */
    void remove(Expiring expiring) {
        pending.remove(expiring);
    }

    private void sweep() {
        long now = System.nanoTime();
        for (Expiring expiring : pending) {
            if (now - expiring.deadline() >= 0 && pending.remove(expiring)) {
                try {
                    expiring.expire();
                } catch (RuntimeException | Error e) {
                    // A failure must not end the periodic task: every later deadline would go unchecked.
                    log.warn("failing a request past its deadline failed: {}", e.toString());
                }
            }
        }
    }

    @Override
    public void close() {
        sweeper.cancel(false);
    }
}
