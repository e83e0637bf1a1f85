package deployer.cell;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background threads of the cells, built by the composition root ({@code Deployer.start}) and handed to
 * {@link CellManager}: a cached pool for starts, closes and pings ({@code deployer-cells-N}) and one scheduler for
 * the health loop, deadlines and unload watching ({@code deployer-scheduler-1}); all daemons. The manager closes
 * them when it closes, being the last to use them.
 */
public final class CellExecutors implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CellExecutors.class);

    final ExecutorService cells;
    final ScheduledExecutorService scheduler;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CellExecutors(ExecutorService cells, ScheduledExecutorService scheduler) {
        this.cells = cells;
        this.scheduler = scheduler;
    }

    public static CellExecutors start() {
        return new CellExecutors(Executors.newCachedThreadPool(named("deployer-cells")),
                Executors.newSingleThreadScheduledExecutor(named("deployer-scheduler")));
    }

    /** Stops both and waits up to 10 s for the cell threads; idempotent. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        scheduler.shutdownNow();
        cells.shutdownNow();
        try {
            if (!cells.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("cell threads still running 10 s after shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
