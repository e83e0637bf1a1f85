package deployer.cell;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Dynamic batching for one cell (DESIGN 1.10): requests that arrive while the model is busy, or while other requests
 * are on their way to it, wait a little for company and are scored together in one {@code scoreBatch} call.
 *
 * <p>There is no batching thread. The threads of the requests themselves take turns: a request that finds the model
 * idle, nobody waiting and nobody else on the way (in {@code prepare}: {@link #arriving}) is scored alone, at once,
 * on its own thread — so a lone request is never delayed. Otherwise it joins the queue; the request at the head of
 * the queue becomes the leader of the next batch, and scores it on its own thread, as soon as one of these happens:
 * <ol>
 *   <li>the queue holds {@code max_batch_size} requests (the one that filled it leads at once);</li>
 *   <li>no batch is running and no other request is on the way: everybody who could join is there (with
 *       {@code max_delay_ms} 0, no batch running is enough);</li>
 *   <li>the head has waited {@code max_delay_ms} (when that is not 0, which means "wait for the model only");</li>
 *   <li>the earliest deadline in the queue has come, so no request waits past its own deadline.</li>
 * </ol>
 * Counting the requests on the way is what lets a busy server fill its batches: under load the first request after
 * a batch would otherwise find the model idle and go alone, the next few would go together when it ends, and so on —
 * most calls of one (issue 16's first measurement: 85–88 % of them). At low load nobody is on the way, so nothing
 * waits.
 *
 * <p>The leader hands each of the other requests its own prediction (or the batch's failure) and wakes it; each then
 * goes on to its own {@code reply}. A request whose thread is interrupted while it waits leaves the queue.
 */
final class Batcher {

    /** Scores several prepared inputs in one call; one prediction per input, in order. */
    interface Scorer {
        List<Object> scoreBatch(List<Object> inputs) throws Exception;
    }

    /** What the metrics see of each batch: its size, and how long each of its requests waited for it. */
    interface Observer {
        Observer NONE = (size, waitedNanos) -> { };

        void batch(int size, long[] waitedNanos);
    }

    private final int maxBatchSize;
    private final long maxDelayNanos;
    private final Scorer scorer;
    private final Observer observer;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    /** Batches being scored now (one request alone counts as a batch of one). */
    private int running;
    /** Requests on their way here: announced by {@link #arriving}, not yet in {@link #score} (or gone). */
    private int preparing;

    Batcher(int maxBatchSize, long maxDelayMs, Scorer scorer, Observer observer) {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be at least 1, not " + maxBatchSize);
        }
        this.maxBatchSize = maxBatchSize;
        this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxDelayMs);
        this.scorer = scorer;
        this.observer = observer;
    }

    /**
     * Scores one prepared input, alone or in a batch, on this thread or on a leader's, and returns its prediction.
     *
     * @param input what the model's {@code prepare} returned
     * @param deadline the request's deadline on the {@link System#nanoTime()} clock; it never waits in the queue
     *     past it (a {@code TIMEOUT} then)
     * @throws Exception what {@code scoreBatch} threw for the batch, or {@link InterruptedException}
     */
    Object score(Object input, long deadline) throws Exception {
        return score(input, deadline, false);
    }

    /**
     * As {@link #score(Object, long)}, for a request that announced itself with {@link #arriving} ({@code announced}):
     * it is no longer on the way.
     */
    Object score(Object input, long deadline, boolean announced) throws Exception {
        Item item = new Item(input, System.nanoTime(), deadline);
        List<Item> batch;
        lock.lock();
        try {
            if (announced) {
                preparing--;
            }
            if (running == 0 && queue.isEmpty() && preparing == 0) {
                running++;
                batch = List.of(item);
            } else {
                item.turn = lock.newCondition();
                queue.add(item);
                if (preparing == 0) {
                    // The last one on the way is here: the head may go now if the model is free.
                    wakeHead();
                }
                batch = awaitTurn(item);
            }
        } finally {
            lock.unlock();
        }
        if (batch != null) {
            lead(batch);
        }
        return item.outcome();
    }

    /**
     * A request is on its way (its {@code prepare} starts): until it reaches {@link #score} or {@link #notArriving},
     * a request that finds the model idle waits for it (at most {@code max_delay_ms}) rather than going alone.
     */
    void arriving() {
        lock.lock();
        try {
            preparing++;
        } finally {
            lock.unlock();
        }
    }

    /** An announced request will not come (its {@code prepare} failed). */
    void notArriving() {
        lock.lock();
        try {
            preparing--;
            if (preparing == 0) {
                wakeHead();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Requests waiting now, for tests and metrics. */
    int waiting() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits, holding the lock between waits, until {@code item} has its prediction (another request led its batch:
     * answers null) or until it is its turn to lead (answers the batch, taken off the queue).
     */
    private List<Item> awaitTurn(Item item) throws InterruptedException {
        while (true) {
            if (item.done) {
                return null;
            }
            if (queue.size() >= maxBatchSize) {
                // This request filled the queue (or found it full): a full batch goes at once.
                return take();
            }
            long now = System.nanoTime();
            if (queue.peekFirst() == item) {
                // With max_delay_ms 0 a request waits for nothing but the model: whatever is waiting goes when it
                // is free.
                long due = maxDelayNanos == 0 ? earliestDeadline()
                        : Math.min(item.arrived + maxDelayNanos, earliestDeadline());
                boolean everyoneHere = running == 0 && (preparing == 0 || maxDelayNanos == 0);
                if (everyoneHere || now - due >= 0) {
                    return take();
                }
                try {
                    item.turn.awaitNanos(due - now);
                } catch (InterruptedException e) {
                    leave(item);
                    throw e;
                }
            } else {
                try {
                    item.turn.await();
                } catch (InterruptedException e) {
                    leave(item);
                    throw e;
                }
            }
        }
    }

    /** Takes up to a full batch off the head of the queue; the caller leads it. */
    private List<Item> take() {
        List<Item> batch = new ArrayList<>(Math.min(queue.size(), maxBatchSize));
        while (batch.size() < maxBatchSize && !queue.isEmpty()) {
            batch.add(queue.pollFirst());
        }
        running++;
        wakeHead();
        return batch;
    }

    private long earliestDeadline() {
        long earliest = Long.MAX_VALUE;
        boolean first = true;
        for (Item waiting : queue) {
            if (first || waiting.deadline - earliest < 0) {
                earliest = waiting.deadline;
                first = false;
            }
        }
        return earliest;
    }

    /** An interrupted request leaves the queue (unless a leader already took it); the next head takes over. */
    private void leave(Item item) {
        if (queue.peekFirst() == item) {
            queue.pollFirst();
            wakeHead();
        } else {
            queue.remove(item);
        }
    }

    private void wakeHead() {
        Item head = queue.peekFirst();
        if (head != null) {
            head.turn.signal();
        }
    }

    /** Scores a batch on this thread, hands every request its outcome, then lets the next batch go. */
    private void lead(List<Item> batch) {
        long start = System.nanoTime();
        long[] waited = new long[batch.size()];
        List<Object> inputs = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            waited[i] = start - batch.get(i).arrived;
            inputs.add(batch.get(i).input);
        }
        observer.batch(batch.size(), waited);
        List<Object> predictions = null;
        Throwable failure = null;
        try {
            predictions = scorer.scoreBatch(inputs);
            if (predictions == null || predictions.size() != batch.size()) {
                failure = new IllegalStateException("scoreBatch returned " + (predictions == null ? "null"
                        : predictions.size() + " predictions") + " for " + batch.size() + " inputs; it must"
                        + " return one prediction per input, in order");
            }
        } catch (Throwable t) {
            failure = t;
        }
        lock.lock();
        try {
            for (int i = 0; i < batch.size(); i++) {
                Item item = batch.get(i);
                if (failure == null) {
                    item.prediction = predictions.get(i);
                } else {
                    item.failure = failure;
                }
                item.done = true;
                if (item.turn != null) {
                    item.turn.signal();
                }
            }
            running--;
            // The model is free only when no batch runs at all: while others still run, what waits keeps gathering
            // company (up to its delay), or a busy model would be handed a stream of batches of one.
            if (running == 0) {
                wakeHead();
            }
        } finally {
            lock.unlock();
        }
    }

    /** One request in the batcher: written by the leader under the lock, read by its own thread under the lock. */
    private static final class Item {
        final Object input;
        final long arrived;
        final long deadline;
        /** Null for a request scored alone at once: nobody needs to wake it. */
        Condition turn;
        boolean done;
        Object prediction;
        Throwable failure;

        Item(Object input, long arrived, long deadline) {
            this.input = input;
            this.arrived = arrived;
            this.deadline = deadline;
        }

        Object outcome() throws Exception {
            if (!done) {
                // Only an interrupted wait leaves without an outcome, and that throws before it gets here.
                throw new IllegalStateException("no outcome");
            }
            if (failure instanceof Exception e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            return prediction;
        }
    }
}
