package deployer.cell;

import deployer.guard.CellExits;
import deployer.store.Store;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a cell apart and checks that it is really gone — Tomcat's "find leaks", made automatic. After the cell is
 * drained and closed, every thread still running with its class loader as context loader (the threads the model
 * started) loses that context loader and is interrupted; then a weak reference tells, within a bounded wait,
 * whether the loader was collected. The outcome is an event: {@code unloaded}, or {@code leaked} with the threads
 * that still hold it.
 */
final class Unloader {

    private static final Logger log = LoggerFactory.getLogger(Unloader.class);
    private static final long POLL_MS = 200;
    private static final long THREAD_GRACE_MS = 1_000;
    private static final long HOOK_WAIT_MS = 5_000;
    private static final int FIRST_COLLECT_POLL = 5;
    private static final long COLLECT_SPACING_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final Store store;
    private final ScheduledExecutorService scheduler;
    private final long waitMs;
    private final Set<WeakReference<ClassLoader>> watched = ConcurrentHashMap.newKeySet();
    private final AtomicLong lastCollection = new AtomicLong(System.nanoTime() - COLLECT_SPACING_NANOS);

    Unloader(Store store, ScheduledExecutorService scheduler, long waitMs) {
        this.store = store;
        this.scheduler = scheduler;
        this.waitMs = waitMs;
    }

    /** Drains and closes the cell, clears what it left on threads, and starts watching its class loader. */
    void unload(Cell cell, long drainMs) {
        CellId id = cell.id();
        cell.close(drainMs);
        // What the cell's code left for the JVM's exit (shutdown hooks, deleteOnExit files) is done now: a hook's
        // thread would otherwise hold the loader for the life of the JVM (ONNX Runtime registers one).
        CellExits.Released released = CellExits.release(cell.loader(), HOOK_WAIT_MS);
        if (released.hooksRun() > 0 || released.filesDeleted() > 0) {
            log.debug("{} - ran {} shutdown hook(s) and deleted {} deleteOnExit file(s) it registered", id,
                    released.hooksRun(), released.filesDeleted());
        }
        if (!released.hooksStillRunning().isEmpty()) {
            log.warn("{} - shutdown hooks it registered still run after {} ms: {}", id, HOOK_WAIT_MS,
                    released.hooksStillRunning());
        }
        List<String> leftRunning = stopThreadsOf(cell.loader());
        if (!leftRunning.isEmpty()) {
            log.warn("{} - threads it started are still running after interrupt: {}", id, leftRunning);
            // Said at once, not only when the loader is found leaked: a non-daemon thread of a model is one the
            // server no longer controls, and the user should hear of it while the cause is fresh.
            store.event(id.model(), id.version(), id.deployId(), "threads-left", "threads the model started still"
                    + " run after close() and an interrupt: " + String.join(", ", leftRunning)
                    + "; stop them in Model.close()");
        }
        WeakReference<ClassLoader> loader = new WeakReference<>(cell.loader());
        watched.add(loader);
        long started = System.nanoTime();
        scheduler.schedule(() -> check(loader, id, leftRunning, started, 0), POLL_MS, TimeUnit.MILLISECONDS);
    }

    /** Class loaders of unloaded cells that have not been collected yet. */
    int stillReachable() {
        watched.removeIf(ref -> ref.get() == null);
        return watched.size();
    }

    private void check(WeakReference<ClassLoader> loader, CellId id, List<String> leftRunning, long started,
                       int polls) {
        try {
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            if (loader.get() == null) {
                watched.remove(loader);
                store.event(id.model(), id.version(), id.deployId(), "unloaded",
                        "class loader collected " + elapsed + " ms after close");
                return;
            }
            if (elapsed >= waitMs) {
                String holders = leftRunning.isEmpty() ? "no thread of the cell is alive; a reference from"
                        + " outside the cell holds it (a JDK cache or a static field set through reflection)"
                        : "live threads still hold it: " + String.join(", ", leftRunning);
                store.event(id.model(), id.version(), id.deployId(), "leaked",
                        "class loader still reachable " + (elapsed / 1000) + " s after close; " + holders);
                log.warn("{} - class loader still reachable after {} s; {}", id, elapsed / 1000, holders);
                return;
            }
            // Classes are unloaded only by a full collection, which stops every request of every model for a
            // moment (130 ms on a 2-core box): leave the first second to the JVM's own collections, then ask for one
            // at most every two seconds for all the cells being watched, so a burst of swaps costs one, not one each.
            if (polls >= FIRST_COLLECT_POLL) {
                collectSoon();
            }
            scheduler.schedule(() -> check(loader, id, leftRunning, started, polls + 1), POLL_MS,
                    TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            log.warn("{} - checking its class loader failed: {}", id, e.toString());
        }
    }

    private void collectSoon() {
        long now = System.nanoTime();
        long last = lastCollection.get();
        if (now - last >= COLLECT_SPACING_NANOS && lastCollection.compareAndSet(last, now)) {
            System.gc();
        }
    }

    /**
     * Every live thread whose context loader is the cell's (the model's own threads inherit it) gets it cleared and
     * is interrupted; returns the names of those still alive after a short grace.
     */
    private static List<String> stopThreadsOf(ClassLoader loader) {
        List<Thread> threads = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getContextClassLoader() == loader && t != Thread.currentThread()) {
                t.setContextClassLoader(null);
                t.interrupt();
                threads.add(t);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(THREAD_GRACE_MS);
        List<String> alive = new ArrayList<>();
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                alive.add(t.getName() + (t.isDaemon() ? "" : " (non-daemon)"));
            }
        }
        return alive;
    }
}
