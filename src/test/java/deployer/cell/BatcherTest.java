package deployer.cell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The batcher with real threads: what the model sees, never a clock in the test. */
@Timeout(30)
class BatcherTest {

    private static final long HOUR_MS = 3_600_000;
    private final ExecutorService clients = Executors.newCachedThreadPool();
    /** The sizes of the batches the model was called with, in call order. */
    private final List<Integer> seen = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        clients.shutdownNow();
    }

    private static long in(long ms) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    }

    /** Doubles every input; the first call waits for {@code gate} (the model "busy"). */
    private Batcher.Scorer doubling(CountDownLatch gate) {
        return inputs -> {
            boolean first = seen.isEmpty();
            seen.add(inputs.size());
            if (first) {
                gate.await();
            }
            List<Object> out = new ArrayList<>();
            for (Object in : inputs) {
                out.add((Integer) in * 2);
            }
            return out;
        };
    }

    private CompletableFuture<Object> send(Batcher batcher, int input, long deadline) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return batcher.score(input, deadline);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, clients);
    }

    @Test
    void aLoneRequestOnAnIdleModelGoesAtOnceWhateverTheDelay() throws Exception {
        // An hour of max_delay: had the request waited for company, the test's timeout would end it.
        Batcher batcher = new Batcher(32, HOUR_MS, doubling(new CountDownLatch(0)), Batcher.Observer.NONE);
        assertThat(batcher.score(21, in(HOUR_MS))).isEqualTo(42);
        assertThat(batcher.score(5, in(HOUR_MS))).isEqualTo(10);
        assertThat(seen).containsExactly(1, 1);
    }

    @Test
    void requestsArrivingWhileTheModelIsBusyGoTogetherWhenItIsFree() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Batcher batcher = new Batcher(8, HOUR_MS, doubling(gate), Batcher.Observer.NONE);
        CompletableFuture<Object> first = send(batcher, 1, in(HOUR_MS));
        Awaitility.await().until(() -> seen.size() == 1);
        List<CompletableFuture<Object>> waiting = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waiting.add(send(batcher, 10 + i, in(HOUR_MS)));
        }
        Awaitility.await().until(() -> batcher.waiting() == 5);
        gate.countDown();
        assertThat(first.get()).isEqualTo(2);
        for (int i = 0; i < 5; i++) {
            assertThat(waiting.get(i).get()).isEqualTo((10 + i) * 2);
        }
        assertThat(seen).containsExactly(1, 5);
    }

    private CompletableFuture<Object> sendAnnounced(Batcher batcher, int input, long deadline) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return batcher.score(input, deadline, true);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, clients);
    }

    @Test
    void onAnIdleModelARequestWaitsForTheOnesStillInPrepareAndGoesWithThem() throws Exception {
        Batcher batcher = new Batcher(8, HOUR_MS, doubling(new CountDownLatch(0)), Batcher.Observer.NONE);
        batcher.arriving();
        batcher.arriving();
        CompletableFuture<Object> first = sendAnnounced(batcher, 1, in(HOUR_MS));
        batcher.arriving();
        CompletableFuture<Object> second = sendAnnounced(batcher, 2, in(HOUR_MS));
        Awaitility.await().until(() -> batcher.waiting() == 2);
        assertThat(seen).as("nobody goes while one more is on its way").isEmpty();
        CompletableFuture<Object> third = sendAnnounced(batcher, 3, in(HOUR_MS));
        assertThat(List.of(first.get(), second.get(), third.get())).containsExactly(2, 4, 6);
        assertThat(seen).containsExactly(3);
    }

    @Test
    void aRequestWhosePrepareFailsNoLongerHoldsTheOthersBack() throws Exception {
        Batcher batcher = new Batcher(8, HOUR_MS, doubling(new CountDownLatch(0)), Batcher.Observer.NONE);
        batcher.arriving();
        batcher.arriving();
        CompletableFuture<Object> first = sendAnnounced(batcher, 1, in(HOUR_MS));
        Awaitility.await().until(() -> batcher.waiting() == 1);
        batcher.notArriving();
        assertThat(first.get()).isEqualTo(2);
        assertThat(seen).containsExactly(1);
        // and with nobody on the way a request goes alone at once again
        assertThat(batcher.score(5, in(HOUR_MS))).isEqualTo(10);
        assertThat(seen).containsExactly(1, 1);
    }

    @Test
    void aFullBatchGoesAtOnceEvenWhileTheModelIsBusy() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Batcher batcher = new Batcher(4, HOUR_MS, doubling(gate), Batcher.Observer.NONE);
        CompletableFuture<Object> first = send(batcher, 1, in(HOUR_MS));
        Awaitility.await().until(() -> seen.size() == 1);
        List<CompletableFuture<Object>> four = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            four.add(send(batcher, i, in(HOUR_MS)));
        }
        for (int i = 0; i < 4; i++) {
            assertThat(four.get(i).get()).isEqualTo(i * 2);
        }
        assertThat(first).isNotDone();
        gate.countDown();
        assertThat(first.get()).isEqualTo(2);
        assertThat(seen).containsExactly(1, 4);
    }

    @Test
    void manyClientsSeeBatchesLargerThanOneAndNeverOverTheMaximum() throws Exception {
        Batcher batcher = new Batcher(8, 2, inputs -> {
            seen.add(inputs.size());
            // Per-call cost, as a native session has: what batching is for.
            long until = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(500);
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            return new ArrayList<>(inputs);
        }, Batcher.Observer.NONE);
        List<CompletableFuture<Void>> clientsDone = new ArrayList<>();
        for (int c = 0; c < 32; c++) {
            int client = c;
            clientsDone.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 50; i++) {
                    int input = client * 1000 + i;
                    try {
                        assertThat(batcher.score(input, in(HOUR_MS))).isEqualTo(input);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
            }, clients));
        }
        CompletableFuture.allOf(clientsDone.toArray(CompletableFuture[]::new)).get();
        assertThat(seen.stream().mapToInt(Integer::intValue).sum()).isEqualTo(32 * 50);
        assertThat(seen).allMatch(size -> size >= 1 && size <= 8);
        assertThat(seen).anyMatch(size -> size > 1);
    }

    @Test
    void aRequestDoesNotWaitInTheQueuePastItsOwnDeadline() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Batcher batcher = new Batcher(32, HOUR_MS, doubling(gate), Batcher.Observer.NONE);
        CompletableFuture<Object> first = send(batcher, 1, in(HOUR_MS));
        Awaitility.await().until(() -> seen.size() == 1);
        // The model stays busy and max_delay is an hour: only its deadline can send this one.
        assertThat(send(batcher, 7, in(200)).get()).isEqualTo(14);
        assertThat(first).isNotDone();
        gate.countDown();
        first.get();
    }

    @Test
    void aFailingBatchFailsItsOwnRequestsAndNoOthers() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Batcher batcher = new Batcher(2, HOUR_MS, inputs -> {
            seen.add(inputs.size());
            if (seen.size() == 1) {
                gate.await();
            }
            if (inputs.contains(-1)) {
                throw new IllegalArgumentException("negative input");
            }
            return new ArrayList<>(inputs);
        }, Batcher.Observer.NONE);
        CompletableFuture<Object> first = send(batcher, 1, in(HOUR_MS));
        Awaitility.await().until(() -> seen.size() == 1);
        CompletableFuture<Object> bad = send(batcher, -1, in(HOUR_MS));
        Awaitility.await().until(() -> batcher.waiting() == 1);
        CompletableFuture<Object> partner = send(batcher, 3, in(HOUR_MS));
        assertThatThrownBy(bad::get).isInstanceOf(ExecutionException.class).hasRootCauseMessage("negative input");
        assertThatThrownBy(partner::get).hasRootCauseMessage("negative input");
        gate.countDown();
        assertThat(first.get()).isEqualTo(1);
        assertThat(batcher.score(4, in(HOUR_MS))).isEqualTo(4);
    }

    @Test
    void aModelReturningTheWrongNumberOfPredictionsFailsWithTheRule() {
        Batcher batcher = new Batcher(4, 0, inputs -> List.of(), Batcher.Observer.NONE);
        assertThatThrownBy(() -> batcher.score(1, in(HOUR_MS)))
                .hasMessageContaining("one prediction per input");
    }

    @Test
    void anInterruptedWaiterLeavesTheQueue() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Batcher batcher = new Batcher(8, HOUR_MS, doubling(gate), Batcher.Observer.NONE);
        CompletableFuture<Object> first = send(batcher, 1, in(HOUR_MS));
        Awaitility.await().until(() -> seen.size() == 1);
        CompletableFuture<Throwable> interrupted = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                batcher.score(5, in(HOUR_MS));
                interrupted.complete(null);
            } catch (Throwable t) {
                interrupted.complete(t);
            }
        });
        waiter.start();
        Awaitility.await().until(() -> batcher.waiting() == 1);
        waiter.interrupt();
        assertThat(interrupted.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(batcher.waiting()).isZero();
        gate.countDown();
        first.get();
        assertThat(seen).containsExactly(1);
    }

    @Test
    void theObserverSeesEachBatchAndHowLongItsRequestsWaited() throws Exception {
        List<long[]> waits = new CopyOnWriteArrayList<>();
        CountDownLatch gate = new CountDownLatch(1);
        Batcher batcher = new Batcher(8, HOUR_MS, doubling(gate), (size, waited) -> waits.add(waited));
        CompletableFuture<Object> first = send(batcher, 1, in(HOUR_MS));
        Awaitility.await().until(() -> seen.size() == 1);
        CompletableFuture<Object> a = send(batcher, 2, in(HOUR_MS));
        CompletableFuture<Object> b = send(batcher, 3, in(HOUR_MS));
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> batcher.waiting() == 2);
        gate.countDown();
        first.get();
        a.get();
        b.get();
        assertThat(waits).hasSize(2);
        assertThat(waits.get(1)).hasSize(2);
        assertThat(java.util.Arrays.stream(waits.get(1))).allMatch(nanos -> nanos >= 0);
    }
}
