package deployer.cell;

import deployer.core.DeployerException;
import deployer.core.DeployerException.Kind;
import deployer.pack.Manifest;
import deployer.spi.Model;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded version of a model: its class loader, its {@link Model} and the worker threads that call it. Every
 * call into the model runs under a deadline, with every {@link Throwable} caught, either on a worker (whose context
 * loader is the cell's) or, for scoring on the model's own port, on the port's thread that read the request
 * ({@link CellThreads}, renewed after a swap so the model's thread-locals go with its cell): a misbehaving model
 * fails its own requests and nothing else.
 */
final class Cell {

    private static final Logger log = LoggerFactory.getLogger(Cell.class);

    private final CellId id;
    private final Manifest manifest;
    private final CellClassLoader loader;
    private final Model model;
    private final Stages stages;
    private final ThreadPoolExecutor workers;
    private final Semaphore permits;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    /** The call of {@code healthy()} under way, which a second ping waits for rather than starting another. */
    private final java.util.concurrent.atomic.AtomicReference<FutureTask<Boolean>> healthCheck =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean closing;
    private volatile boolean healthy = true;
    private volatile Instant lastPing = Instant.now();
    private final AtomicInteger failedPings = new AtomicInteger();

    private final CellObserver.RequestMeter meter;
    private final Deadlines deadlines;

    Cell(CellId id, Manifest manifest, CellClassLoader loader, Model model, CellObserver.RequestMeter meter,
         Deadlines deadlines) {
        this.id = id;
        this.deadlines = deadlines;
        this.meter = meter;
        this.manifest = manifest;
        this.loader = loader;
        this.model = model;
        this.stages = new Stages(id, model, scorer(manifest, model, meter));
        this.permits = new Semaphore(manifest.limits().maxConcurrent());
        AtomicInteger count = new AtomicInteger();
        // No queue: a request either gets a thread at once or (past the permits) a 503. Threads are bounded by the
        // permits, which a request gives back only when the model's code has really returned.
        this.workers = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "cell-" + id.model() + "-v" + id.version() + "-worker-"
                            + count.incrementAndGet());
                    t.setDaemon(true);
                    t.setContextClassLoader(loader);
                    return t;
                });
    }

    /**
     * Stage 3 as this cell runs it: {@code Model.score}, or with {@code "batching"} in the manifest a {@link Batcher}
     * that gathers requests into {@code scoreBatch} calls (DESIGN 1.10). A request never waits in the batcher past
     * its own deadline, counted from when it reaches stage 3.
     */
    private static Scorer scorer(Manifest manifest, Model model, CellObserver.RequestMeter meter) {
        Manifest.Batching batching = manifest.batching();
        if (batching == null) {
            return model::score;
        }
        Batcher batcher = new Batcher(batching.maxBatchSize(), batching.maxDelayMs(), model::scoreBatch,
                meter::batch);
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(manifest.limits().timeoutMs());
        return new Scorer() {
            @Override
            public Object score(Object input) throws Exception {
                return batcher.score(input, System.nanoTime() + timeoutNanos, true);
            }

            @Override
            public void arriving() {
                batcher.arriving();
            }

            @Override
            public void notArriving() {
                batcher.notArriving();
            }
        };
    }

    CellId id() {
        return id;
    }

    /** A reply value as JSON, written by this cell's mapper (what {@link Stages} skipped for a value route). */
    byte[] json(Object value) {
        return stages.json(value);
    }

    Manifest manifest() {
        return manifest;
    }

    CellClassLoader loader() {
        return loader;
    }

    Model model() {
        return model;
    }

    CellObserver.RequestMeter meter() {
        return meter;
    }

    Deadlines deadlines() {
        return deadlines;
    }

    /** Stage 1: runs {@code load} on a worker; the future fails with the reason, or when the deadline passes. */
    void load(CellContext context) {
        load(context, new CompletableFuture<>());
    }

    /** The same, given up (and {@code load()} interrupted) as soon as {@code cancel} completes, with its text. */
    void load(CellContext context, CompletableFuture<String> cancel) {
        long timeout = manifest.limits().loadTimeoutMs();
        FutureTask<Void> task = new FutureTask<>(() -> {
            model.load(context);
            return null;
        });
        workers.execute(task);
        cancel.thenAccept(why -> task.cancel(true));
        try {
            task.get(timeout, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.CancellationException e) {
            throw new CellFailure(cancel.getNow("load() was cancelled"));
        } catch (TimeoutException e) {
            task.cancel(true);
            throw new CellFailure("load() did not finish within " + timeout + " ms (limits.load_timeout_ms)");
        } catch (ExecutionException e) {
            throw new CellFailure("load() failed: " + ModelTrace.describe(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            task.cancel(true);
            throw new CellFailure("load() was interrupted: the server is stopping");
        }
    }

    /** Admits one request unless the cell is closing; every {@code true} must be paired with {@link #exit()}. */
    boolean enter() {
        inFlight.incrementAndGet();
        if (closing) {
            exit();
            return false;
        }
        return true;
    }

    int inFlight() {
        return Math.max(0, inFlight.get());
    }

    void exit() {
        if (inFlight.decrementAndGet() == 0 && closing) {
            drained.complete(null);
        }
    }

    /**
     * Takes one of the cell's {@code limits.max_concurrent} request slots, or answers 503 at once. The permit goes
     * back when the model's code has returned (or, for a request never scored, when its call finishes).
     */
    Permit acquire() {
        if (!permits.tryAcquire()) {
            throw DeployerException.unavailable("model " + id + " is busy: all " + manifest.limits().maxConcurrent()
                    + " request slots (limits.max_concurrent) are in use; retry shortly");
        }
        return new Permit();
    }

    /** One request slot, given back once. */
    final class Permit {
        private final AtomicBoolean released = new AtomicBoolean();

        void release() {
            if (released.compareAndSet(false, true)) {
                permits.release();
            }
        }
    }

    /**
     * Starts a call that answers through a callback and waits for that answer, rethrowing a failure as the
     * {@link DeployerException} it is.
     */
    static CellResponse await(Consumer<BiConsumer<? super CellResponse, ? super Throwable>> call) {
        CompletableFuture<CellResponse> answer = new CompletableFuture<>();
        call.accept((done, failure) -> {
            if (failure == null) {
                answer.complete(done);
            } else {
                answer.completeExceptionally(failure);
            }
        });
        try {
            return answer.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DeployerException known) {
                throw known;
            }
            throw new DeployerException(Kind.INTERNAL, "scoring failed: " + describe(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw DeployerException.unavailable("the server is stopping; retry shortly");
        }
    }

    /**
     * Stages 2 to 4 for one admitted request, then {@code then} with the answer or the failure, exactly once: on
     * this thread when it may run the model's code (a thread of the model's own port, {@link CellThreads}; all has
     * happened when this returns), else on a worker without holding this thread. The failure is a {@code TIMEOUT}
     * once {@code limits.timeout_ms} has passed ({@link Deadlines}), given to {@code then} at once, even while the
     * model's code still runs on this thread; that code is interrupted, and {@code permit} comes back when it
     * returns. {@code then} is attached before the model's code starts, for that reason. A cell shutting down throws
     * at once instead.
     *
     * @param onThisThread whether this thread may run the model's code; a caller that waits for {@code then}, or a
     *     thread shared with the rest of the server, must pass false
     */
    void submit(CellRequest request, boolean onThisThread, Permit permit,
                BiConsumer<? super CellResponse, ? super Throwable> then) {
        Job job = new Job(request, permit);
        job.result.whenComplete(then);
        // The deadline runs from here, also while the model's code runs on this very thread.
        job.deadline = deadlines.add(System.nanoTime()
                + TimeUnit.MILLISECONDS.toNanos(manifest.limits().timeoutMs()), job::expire);
        if (onThisThread) {
            runHere(job);
            job.publish();
            return;
        }
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            permit.release();
            deadlines.remove(job.deadline);
            throw DeployerException.unavailable("model " + id + " is shutting down; retry shortly");
        }
    }

    /**
     * Runs the job on this thread as on one of the cell's workers: the cell's context loader, and what the model
     * did to the thread (its name, an interrupt meant for it) undone before the thread goes back to its pool.
     */
    private void runHere(Job job) {
        Thread thread = Thread.currentThread();
        String ownName = thread.getName();
        ClassLoader ownLoader = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            job.runHeld();
        } finally {
            thread.setContextClassLoader(ownLoader);
            if (thread.getName() != ownName) { // the very same String unless the model renamed the thread
                thread.setName(ownName);
            }
            Thread.interrupted();
        }
    }

    /** Records a ping of the health loop; returns how many have failed in a row. */
    int recordPing(boolean up) {
        lastPing = Instant.now();
        healthy = up;
        if (up) {
            failedPings.set(0);
            return 0;
        }
        return failedPings.incrementAndGet();
    }

    boolean healthy() {
        return healthy && !closing;
    }

    Instant lastPing() {
        return lastPing;
    }

    /** Scores the manifest's {@code health.sample}, if any, through the scoring path ({@link Call}). */
    void scoreSample() {
        Object sample = manifest.health().sample();
        if (sample == null) {
            return;
        }
        Call call;
        try {
            call = Call.admit(this, "health-sample");
        } catch (DeployerException e) {
            throw new CellFailure("health.sample could not be scored: " + e.getMessage(), e);
        }
        if (call == null) {
            throw new CellFailure("the cell closed before its health.sample was scored");
        }
        int status = 500;
        try {
            CellResponse answer = await(then -> call.score(CellRequest.ofJson(sample), false, then));
            status = answer.status();
            if (status >= 400) {
                throw new CellFailure("health.sample was answered with status " + status);
            }
        } catch (DeployerException e) {
            status = e.kind().status();
            throw new CellFailure("health.sample failed: " + ModelTrace.detail(e), e);
        } finally {
            call.finish(status);
        }
    }

    /**
     * Asks {@link Model#healthy()} on a worker, within {@code timeoutMs}; a model that does not answer, throws, or
     * is still stuck in a check that timed out, is not healthy. Two pings at once (the health loop's and a user's)
     * share one call of {@code healthy()}.
     */
    Map<String, Object> health(long timeoutMs) {
        if (closing) {
            return down("the cell is stopping");
        }
        FutureTask<Boolean> task = healthCheck.get();
        if (task == null) {
            FutureTask<Boolean> fresh = new FutureTask<>(model::healthy);
            if (!healthCheck.compareAndSet(null, fresh)) {
                return health(timeoutMs); // another ping started one a moment ago: wait for that one
            }
            try {
                workers.execute(() -> {
                    try {
                        fresh.run();
                    } finally {
                        healthCheck.compareAndSet(fresh, null);
                    }
                });
            } catch (RejectedExecutionException e) {
                healthCheck.compareAndSet(fresh, null);
                return down("the cell is stopping");
            }
            task = fresh;
        }
        try {
            return task.get(timeoutMs, TimeUnit.MILLISECONDS) ? up() : down("healthy() returned false");
        } catch (TimeoutException e) {
            return down("healthy() did not answer within " + timeoutMs + " ms");
        } catch (ExecutionException e) {
            return down("healthy() failed: " + describe(e.getCause()));
        } catch (java.util.concurrent.CancellationException e) {
            return down("the cell is stopping");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return down("interrupted");
        }
    }

    private Map<String, Object> up() {
        return Map.of("status", "UP", "model", id.model(), "version", id.version());
    }

    private Map<String, Object> down(String reason) {
        return Map.of("status", "DOWN", "model", id.model(), "version", id.version(), "error", reason);
    }

    /**
     * Stops admitting requests, waits up to {@code drainMs} for those in flight, then closes the model, the workers
     * and the class loader. Idempotent.
     */
    void close(long drainMs) {
        if (closed.getAndSet(true)) {
            return;
        }
        closing = true;
        if (inFlight.get() == 0) {
            drained.complete(null);
        }
        try {
            drained.get(drainMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("{} - {} requests still running after the {} ms drain; closing anyway", id, inFlight.get(),
                    drainMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
        FutureTask<Void> close = new FutureTask<>(() -> {
            model.close();
            return null;
        });
        try {
            workers.execute(close);
            close.get(drainMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("{} - close() did not return within {} ms", id, drainMs);
        } catch (ExecutionException e) {
            log.warn("{} - close() failed: {}", id, describe(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RejectedExecutionException e) {
            log.warn("{} - close() not called: workers already stopped", id);
        }
        workers.shutdownNow();
        meter.close();
        try {
            loader.close();
        } catch (IOException e) {
            log.warn("{} - closing its class loader failed: {}", id, e.getMessage());
        }
    }

    static String describe(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        String message = t.getMessage();
        return message == null ? t.getClass().getName() : t.getClass().getName() + ": " + message;
    }

    @Override
    public String toString() {
        return id.toString();
    }

    /**
     * A request's journey through the model. It gives its permit back only when the model's code has returned, and
     * completes {@link #result} instead of waking a waiting caller.
     */
    private final class Job extends FutureTask<CellResponse> {

        final CompletableFuture<CellResponse> result = new CompletableFuture<>();
        private final Permit permit;
        volatile Deadlines.Entry deadline;
        private volatile boolean held;

        Job(CellRequest request, Permit permit) {
            // The permit goes back as the model's code returns, before the answer is handed over, so a client
            // that got its answer finds the slot free.
            super(() -> {
                try {
                    return stages.run(request);
                } finally {
                    permit.release();
                }
            });
            this.permit = permit;
        }

        /** Answers 504 now, and interrupts the model's code; its permit comes back when that code returns. */
        void expire() {
            long timeout = manifest.limits().timeoutMs();
            if (result.completeExceptionally(new DeployerException(Kind.TIMEOUT, "model " + id
                    + " did not answer within " + timeout + " ms (limits.timeout_ms)"))) {
                cancel(true);
            }
        }

        @Override
        public void run() {
            try {
                super.run();
            } finally {
                permit.release();
            }
        }

        /** Runs the job without handing its answer over; {@link #publish} does, once the thread is back. */
        void runHeld() {
            held = true;
            run();
        }

        @Override
        protected void done() {
            if (!held) {
                publish();
            }
        }

        void publish() {
            deadlines.remove(deadline);
            if (isCancelled()) {
                return;
            }
            try {
                result.complete(get());
            } catch (ExecutionException e) {
                result.completeExceptionally(e.getCause() instanceof DeployerException known ? known
                        : new DeployerException(Kind.INTERNAL, "model " + id + " failed: " + describe(e.getCause())));
            } catch (InterruptedException | java.util.concurrent.CancellationException e) {
                result.completeExceptionally(DeployerException.unavailable("the server is stopping; retry shortly"));
            }
        }
    }

    /** Why a cell could not start; the message is what the user reads in the deployment's {@code error}. */
    static final class CellFailure extends RuntimeException {
        CellFailure(String message) {
            super(message);
        }

        CellFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
