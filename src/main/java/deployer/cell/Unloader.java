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
 * started) loses that context loader and is interrupted; then a weak reference tells whether the loader was
 * collected. The outcome is an event: {@code unloaded}, or {@code leaked} with the threads that still hold it.
 *
 * <p>{@code leaked} means held, not slow: the loader must still be reachable both {@code waitMs} after close and after
 * {@link #COLLECTIONS_BEFORE_LEAKED} collections that unloaded classes since then. Wall time alone is no proof: a
 * {@code System.gc()} is only a request, and the JVM drops it while a thread is inside a JNI critical region
 * (HotSpot's GC locker; ONNX Runtime's native calls enter one on every request, and under load about half the
 * requests were dropped, each replaced by a young collection that unloads nothing). So each request is checked with a
 * probe, a throwaway class loader with one class of its own that only a class-unloading collection can free
 * ({@link #collectSoon}); a dropped request is asked again soon. The wait leaves out the collectors' own time. A
 * loader called leaked is still watched, with collections asked for ever more rarely: if it goes after all, an
 * {@code unloaded} event says how late.
 */
final class Unloader {

    private static final Logger log = LoggerFactory.getLogger(Unloader.class);
    private static final long POLL_MS = 200;
    private static final long THREAD_GRACE_MS = 1_000;
    private static final long HOOK_WAIT_MS = 5_000;
    private static final int FIRST_COLLECT_POLL = 5;
    private static final long COLLECT_SPACING_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Collections that unloaded classes (after the cell closed) that a loader must outlive to be called leaked. */
    static final int COLLECTIONS_BEFORE_LEAKED = 3;
    /** After a request the JVM dropped: how soon to ask again (instead of the spacing's two seconds). */
    private static final long RETRY_AFTER_DROP_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /**
     * The verdict without the collections, past this long after close: where classes are never unloaded
     * ({@code -XX:-ClassUnloading}) or explicit collections are disabled, no probe is ever freed.
     */
    private static final long LAST_RESORT_FACTOR = 6;
    /** After a leaked verdict: how often the reference is looked at, and the first and largest gap between asks. */
    private static final long LATE_POLL_MS = 1_000;
    private static final long LATE_FIRST_ASK_MS = 5_000;
    private static final long LATE_MAX_ASK_MS = 60_000;
    /** How long past its verdict a leaked loader is still watched (the gauge counts it for as long as it lives). */
    private static final long LATE_WATCH_MS = TimeUnit.MINUTES.toMillis(10);

    private final Store store;
    private final ScheduledExecutorService scheduler;
    private final long waitMs;
    private final Set<WeakReference<ClassLoader>> watched = ConcurrentHashMap.newKeySet();
    private final AtomicLong lastCollection = new AtomicLong(System.nanoTime() - COLLECT_SPACING_NANOS);
    /** Collections asked for here that were seen to unload classes (their probe was freed). */
    private final AtomicLong collections = new AtomicLong();
    /** The bytes of {@link Probe}, defined anew in each probe loader; null if they cannot be read. */
    private final byte[] probeClass = probeClass();

    Unloader(Store store, ScheduledExecutorService scheduler, long waitMs) {
        this.store = store;
        this.scheduler = scheduler;
        this.waitMs = waitMs;
    }

    /** One unloaded cell's loader being watched; touched by the scheduler's checks only, one at a time. */
    private final class Watch {
        final WeakReference<ClassLoader> loader;
        final CellId id;
        final List<String> leftRunning;
        final long started = System.nanoTime();
        final long collectionsAtClose = collections.get();
        final long pausedAtClose = pausedMs();
        int polls;
        /** When it was called leaked (ms after close), or -1. */
        long leakedAtMs = -1;
        long nextAskNanos;
        long askGapMs = LATE_FIRST_ASK_MS;

        Watch(ClassLoader loader, CellId id, List<String> leftRunning) {
            this.loader = new WeakReference<>(loader);
            this.id = id;
            this.leftRunning = leftRunning;
        }
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
        Watch watch = new Watch(cell.loader(), id, leftRunning);
        watched.add(watch.loader);
        scheduler.schedule(() -> check(watch), POLL_MS, TimeUnit.MILLISECONDS);
    }

    /** Class loaders of unloaded cells that have not been collected yet. */
    int stillReachable() {
        watched.removeIf(ref -> ref.get() == null);
        return watched.size();
    }

    private void check(Watch w) {
        CellId id = w.id;
        try {
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.started);
            if (w.loader.get() == null) {
                watched.remove(w.loader);
                if (w.leakedAtMs < 0) {
                    store.event(id.model(), id.version(), id.deployId(), "unloaded",
                            "class loader collected " + elapsed + " ms after close");
                } else {
                    store.event(id.model(), id.version(), id.deployId(), "unloaded", "class loader collected "
                            + elapsed + " ms after close, " + (elapsed - w.leakedAtMs) / 1000 + " s after it was"
                            + " reported leaked: what held it has let go");
                    log.info("{} - class loader collected {} s after close, after it was reported leaked", id,
                            elapsed / 1000);
                }
                return;
            }
            w.polls++;
            if (w.leakedAtMs >= 0) {
                watchLate(w, elapsed);
                return;
            }
            // Only collections asked for after the close count, and each was over before this look at the
            // reference: the same scheduler thread asked for it and waited for it to end.
            long survived = collections.get() - w.collectionsAtClose;
            boolean outlived = survived >= COLLECTIONS_BEFORE_LEAKED || elapsed >= waitMs * LAST_RESORT_FACTOR;
            // The wait counts the time the JVM ran, not its collections' pauses: what lets go of a loader (a pool
            // thread renewed after its next request, say) makes no progress while the JVM is stopped, and on a
            // loaded 2-core box the full collections asked for here stopped it for 0.3 to 3.5 s each.
            long ran = elapsed - (pausedMs() - w.pausedAtClose);
            if (ran >= waitMs && outlived) {
                String holders = w.leftRunning.isEmpty() ? "no thread of the cell is alive; a reference from"
                        + " outside the cell holds it (a JDK cache or a static field set through reflection)"
                        : "live threads still hold it: " + String.join(", ", w.leftRunning);
                store.event(id.model(), id.version(), id.deployId(), "leaked", "class loader still reachable "
                        + (elapsed / 1000) + " s after close and " + survived + " full collections; " + holders);
                log.warn("{} - class loader still reachable {} s after close and {} full collections; {}", id,
                        elapsed / 1000, survived, holders);
                w.leakedAtMs = elapsed;
                w.nextAskNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(w.askGapMs);
                scheduler.schedule(() -> check(w), LATE_POLL_MS, TimeUnit.MILLISECONDS);
                return;
            }
            // Classes are unloaded only by a full collection, which stops every request of every model for a
            // moment (130 ms on a 2-core box): leave the first second to the JVM's own collections, then ask for one
            // at most every two seconds for all the cells being watched, so a burst of swaps costs one, not one each.
            if (w.polls >= FIRST_COLLECT_POLL) {
                collectSoon();
            }
            scheduler.schedule(() -> check(w), POLL_MS, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            log.warn("{} - checking its class loader failed: {}", id, e.toString());
        }
    }

    /**
     * A loader already reported leaked: looked at every second, with a collection asked for after 5 s, then 10, 20,
     * up to once a minute (a leaked loader must not cost a pause every two seconds for good), for ten minutes.
     */
    private void watchLate(Watch w, long elapsed) {
        if (elapsed - w.leakedAtMs >= LATE_WATCH_MS) {
            log.info("{} - class loader still reachable {} min after close; no longer watched (the gauge"
                    + " deployer_cells_unloaded_reachable counts it while it lives)", w.id, elapsed / 60_000);
            return;
        }
        long now = System.nanoTime();
        if (now - w.nextAskNanos >= 0) {
            collectSoon();
            w.askGapMs = Math.min(w.askGapMs * 2, LATE_MAX_ASK_MS);
            w.nextAskNanos = now + TimeUnit.MILLISECONDS.toNanos(w.askGapMs);
        }
        scheduler.schedule(() -> check(w), LATE_POLL_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Asks for a full collection, at most every two seconds, and counts it if it unloaded classes: the probe, a
     * loader nothing references that has defined a class, is freed by such a collection only (young collections keep
     * every loader with classes). A request the JVM dropped is asked again half a second later.
     */
    private void collectSoon() {
        long now = System.nanoTime();
        long last = lastCollection.get();
        if (now - last < COLLECT_SPACING_NANOS || !lastCollection.compareAndSet(last, now)) {
            return;
        }
        WeakReference<ClassLoader> probe = probe();
        System.gc();
        if (probe == null || probe.get() == null) {
            collections.incrementAndGet();
        } else {
            lastCollection.compareAndSet(now, now - COLLECT_SPACING_NANOS + RETRY_AFTER_DROP_NANOS);
            log.debug("a full collection asked for did not run (a thread in a JNI critical region?); asking again"
                    + " soon");
        }
    }

    /** Time the JVM's collectors have spent so far, as they report it (pauses, and for some concurrent work). */
    private static long pausedMs() {
        long ms = 0;
        for (java.lang.management.GarbageCollectorMXBean gc
                : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    /** The class every probe loader defines: nothing but itself. */
    static final class Probe {
    }

    private static final class ProbeLoader extends ClassLoader {
        ProbeLoader() {
            super("unloader-probe", null);
        }

        void define(byte[] bytes) {
            defineClass(null, bytes, 0, bytes.length);
        }
    }

    private WeakReference<ClassLoader> probe() {
        if (probeClass == null) {
            return null;
        }
        ProbeLoader loader = new ProbeLoader();
        try {
            loader.define(probeClass);
        } catch (LinkageError e) {
            return null;
        }
        return new WeakReference<>(loader);
    }

    private static byte[] probeClass() {
        try (java.io.InputStream in = Unloader.class.getResourceAsStream("Unloader$Probe.class")) {
            return in == null ? null : in.readAllBytes();
        } catch (java.io.IOException e) {
            return null;
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
