package deployer.cell;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads of one model's port: its connector reads requests on them and the model's code runs on the very
 * thread that read its request, with no hand-off. What the model's code leaves in thread-locals stays on these
 * threads only, so they are renewed once the cell they served is swapped out, the way Tomcat's
 * {@code ThreadLocalLeakPreventionListener} renews a pool after its context stops: a thread made before the swap
 * ends after its current task (a fresh one takes its place), and an idle one ends within {@link #KEEP_ALIVE_MS}.
 * Nothing here writes a JDK field: thread-locals go because their thread goes.
 *
 * <p>Jetty's selector loop runs on one of these threads too; it runs no model code (the connector's handlers are
 * blocking, so Jetty hands each request to another thread of the pool), and it is the one long task a renewal
 * leaves alone.
 */
public final class CellThreads implements Executor {

    private static final Logger log = LoggerFactory.getLogger(CellThreads.class);

    /** Besides the model's {@code limits.max_concurrent}: the selector, pings, refusals and answers being written. */
    static final int SPARE = 8;
    /** How long an idle thread lives; also how soon after a swap an idle thread of the old cell is gone. */
    static final long KEEP_ALIVE_MS = 2_000;
    /**
     * At most one busy thread is renewed per this many nanoseconds (Tomcat spaces its renewals too): a swap under
     * load then replaces its threads over a few hundred milliseconds rather than all in the same instant.
     */
    static final long RENEWAL_SPACING_NANOS = 2_000_000;

    private final String name;
    private final AtomicInteger count = new AtomicInteger();
    private final Pool pool;
    private final AtomicInteger generation = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong lastRenewal =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - RENEWAL_SPACING_NANOS);

    CellThreads(String name) {
        this.name = name;
        this.pool = new Pool(deployer.pack.Manifest.Limits.DEFAULT_MAX_CONCURRENT + SPARE);
    }

    @Override
    public void execute(Runnable task) {
        pool.execute(task);
    }

    /** Whether this thread is one of the pool's: whether a request it reads may run the model's code on it. */
    public static boolean isCurrent(Executor threads) {
        return Thread.currentThread() instanceof Worker w && w.owner == threads;
    }

    /**
     * A new cell serves the port (or none does): every thread that may carry the previous cell's thread-locals is
     * retired as soon as it is free. {@code maxConcurrent} sizes the pool for the cell now serving.
     */
    void renew(int maxConcurrent) {
        generation.incrementAndGet();
        int size = maxConcurrent + SPARE;
        if (size > pool.getMaximumPoolSize()) {
            pool.setMaximumPoolSize(size);
            pool.setCorePoolSize(size);
        } else if (size < pool.getMaximumPoolSize()) {
            pool.setCorePoolSize(size);
            pool.setMaximumPoolSize(size);
        }
    }

    /** Threads alive now, busy or idle. */
    int threads() {
        return pool.getPoolSize();
    }

    void close() {
        pool.shutdown();
    }

    private final class Worker extends Thread {
        final CellThreads owner = CellThreads.this;
        final int born = generation.get();

        Worker(Runnable r) {
            super(r, name + "-" + count.incrementAndGet());
            setDaemon(true);
            // A renewal ends a thread by an exception out of afterExecute; it is not a failure, so it is not printed.
            setUncaughtExceptionHandler((t, e) -> {
                if (!(e instanceof Renewed)) {
                    log.warn("{} ended by {}", t.getName(), e.toString());
                }
            });
        }
    }

    /** Thrown to end a thread a renewal retired; the pool replaces it with a fresh one. */
    private static final class Renewed extends RuntimeException {
        Renewed() {
            super(null, null, false, false);
        }
    }

    private boolean mayRenewNow() {
        long now = System.nanoTime();
        long last = lastRenewal.get();
        return now - last >= RENEWAL_SPACING_NANOS && lastRenewal.compareAndSet(last, now);
    }

    private final class Pool extends ThreadPoolExecutor {

        Pool(int size) {
            // Core = max with an unbounded queue: Jetty's tasks wait rather than fail when every thread is busy; core
            // threads time out too, so an idle port keeps no thread but its selector.
            super(size, size, KEEP_ALIVE_MS, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), Worker::new);
            allowCoreThreadTimeOut(true);
        }

        @Override
        protected void afterExecute(Runnable task, Throwable failure) {
            // The thread may hold thread-locals of a cell no longer serving: end it, now that it is free.
            if (Thread.currentThread() instanceof Worker w && w.born != generation.get() && mayRenewNow()) {
                throw new Renewed();
            }
        }
    }
}
