package deployer.cell;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The deadlines' one timer: armed for the earliest, asleep while nothing is pending, never firing what finished. */
class DeadlinesTest {

    final ScheduledThreadPoolExecutor scheduler = scheduler();
    final Deadlines deadlines = new Deadlines(scheduler);
    final List<String> expired = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        deadlines.close();
        scheduler.shutdownNow();
    }

    /** A cancelled timer leaves the queue at once, so the queue shows what is really armed. */
    private static ScheduledThreadPoolExecutor scheduler() {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }

    private static long in(long ms) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    }

    @Test
    void nothingPendingLeavesNothingScheduled() {
        assertThat(scheduler.getQueue()).isEmpty();
        Deadlines.Entry entry = deadlines.add(in(60_000), () -> expired.add("late"));
        assertThat(scheduler.getQueue()).hasSize(1);
        deadlines.remove(entry);

        assertThat(deadlines.pending()).isZero();
        assertThat(expired).isEmpty();
    }

    @Test
    void eachDeadlineExpiresOnceInOrderAndAnEarlierOneRearmsTheTimer() {
        deadlines.add(in(60_000), () -> expired.add("minute"));
        deadlines.add(in(200), () -> expired.add("second"));
        deadlines.add(in(100), () -> expired.add("first"));

        Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> expired.size() == 2);
        assertThat(expired).containsExactly("first", "second");
        assertThat(deadlines.pending()).isEqualTo(1);
        // Armed for the minute's deadline only: one task waiting, no periodic sweep.
        assertThat(scheduler.getQueue()).hasSize(1);
    }

    @Test
    void aRemovedDeadlineNeverFires() {
        Deadlines.Entry done = deadlines.add(in(50), () -> expired.add("done in time"));
        deadlines.add(in(150), () -> expired.add("late"));
        deadlines.remove(done);

        Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !expired.isEmpty());
        assertThat(expired).containsExactly("late");
        assertThat(deadlines.pending()).isZero();
    }
}
