package deployer.cell;

import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deadlines of the requests in flight ({@code limits.timeout_ms}, {@code limits.body_timeout_ms}), kept in order
 * with one timer armed for the earliest. A timer per request ({@code CompletableFuture.orTimeout}) put every request
 * through the one lock of the JDK's shared delay queue twice, to arm it and to cancel it, and cost a sixth of the
 * throughput of a trivial model (BENCHMARKS.md, row 1); a sweep every 10 ms ticked while the server was idle. Here a
 * request is added to and removed from a concurrent sorted set; the timer is touched only when a deadline comes
 * before the one it is armed for (rare: deadlines arrive mostly in order), and it sleeps while nothing is pending.
 */
final class Deadlines implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Deadlines.class);

    /** One pending deadline; {@link #remove} it when what it guards finished in time. */
    static final class Entry implements Comparable<Entry> {
        private final long deadline;
        private final long seq;
        private final Runnable expire;

        private Entry(long deadline, long seq, Runnable expire) {
            this.deadline = deadline;
            this.seq = seq;
            this.expire = expire;
        }

        long deadline() {
            return deadline;
        }

        @Override
        public int compareTo(Entry other) {
            int byTime = Long.compare(deadline - other.deadline, 0);
            return byTime != 0 ? byTime : Long.compare(seq, other.seq);
        }
    }

    private final ScheduledExecutorService scheduler;
    private final ConcurrentSkipListSet<Entry> pending = new ConcurrentSkipListSet<>();
    private final AtomicLong sequence = new AtomicLong();
    private final Object lock = new Object();
    private volatile boolean armed;
    private volatile long armedFor;
    private ScheduledFuture<?> timer;
    private volatile boolean closed;

    Deadlines(ScheduledExecutorService scheduler) {
        this.scheduler = scheduler;
    }

    /**
     * Runs {@code expire} once {@link System#nanoTime()} passes {@code deadline}, unless removed first. {@code expire}
     * runs on the timer's thread: it must be quick and must not throw.
     */
    Entry add(long deadline, Runnable expire) {
        Entry entry = new Entry(deadline, sequence.getAndIncrement(), expire);
        pending.add(entry);
        // Read after the add: a timer that fires meanwhile clears `armed` before it looks at the set, so either it
        // sees this entry or this sees it unarmed.
        if (!armed || deadline - armedFor < 0) {
            arm(deadline);
        }
        return entry;
    }

    /** What it guarded finished (or failed) in time. */
    void remove(Entry entry) {
        if (entry != null) {
            pending.remove(entry);
        }
    }

    int pending() {
        return pending.size();
    }

    private void arm(long deadline) {
        synchronized (lock) {
            if (closed || (armed && armedFor - deadline <= 0)) {
                return;
            }
            if (timer != null) {
                timer.cancel(false);
            }
            armedFor = deadline;
            armed = true;
            try {
                timer = scheduler.schedule(this::fire, Math.max(0, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                armed = false; // the server is stopping: its requests end with it
            }
        }
    }

    private void fire() {
        synchronized (lock) {
            armed = false;
            timer = null;
        }
        long now = System.nanoTime();
        Entry first;
        while ((first = firstOrNull()) != null && now - first.deadline >= 0) {
            if (pending.remove(first)) {
                try {
                    first.expire.run();
                } catch (RuntimeException | Error e) {
                    // One failure must not leave the later deadlines unwatched.
                    log.warn("failing a request past its deadline failed: {}", e.toString());
                }
            }
        }
        if (first != null) {
            arm(first.deadline);
        }
    }

    private Entry firstOrNull() {
        try {
            return pending.first();
        } catch (java.util.NoSuchElementException e) {
            return null;
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (timer != null) {
                timer.cancel(false);
            }
        }
    }
}
