package deployer.cell;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lends the thread that received a request (a Jetty thread) to a cell for the model's code, instead of handing the
 * request to one of the cell's workers: the hand-off (a wake-up of the worker, a second thread per request) cost a
 * third of the throughput of a trivial model (BENCHMARKS.md, row 1).
 *
 * <p>On loan the thread must look to the model like one of its cell's workers, and give nothing of the model back:
 * <ul>
 *   <li>its context class loader is the cell's;</li>
 *   <li>its thread-locals are the cell's own set for that thread, swapped in for the loan and out after, so what a
 *       model (or a library inside it) keeps in a {@code ThreadLocal} stays with the cell, and goes when the cell
 *       goes: left in a Jetty thread, it would hold the cell's class loader for as long as the thread lives;</li>
 *   <li>an interrupt meant for the model (its deadline passed) is cleared, and a name the model gave the thread is
 *       taken back, before the thread goes back.</li>
 * </ul>
 * A stuck model keeps the threads it borrowed: at most {@code budget} server threads are on loan at once, across
 * all cells (and at most a cell's {@code limits.max_concurrent} for one cell); past that a request goes to the
 * cell's workers as before, so the server always keeps threads for its API and for the other models. Swapping a
 * thread's thread-locals needs {@code java.lang} open to the server, which the exit guard's agent does; without it
 * (no agent) nothing is lent and every request goes to a worker.
 */
final class ThreadLoan {

    private static final Logger log = LoggerFactory.getLogger(ThreadLoan.class);

    private final Semaphore budget;
    private final VarHandle locals;
    private final VarHandle inheritable;

    private ThreadLoan(int budget, VarHandle locals, VarHandle inheritable) {
        this.budget = new Semaphore(budget);
        this.locals = locals;
        this.inheritable = inheritable;
    }

    /** A loan office lending at most {@code budget} threads at once; lends none when thread-locals cannot be swapped. */
    static ThreadLoan create(int budget) {
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(Thread.class, MethodHandles.lookup());
            Class<?> map = Class.forName("java.lang.ThreadLocal$ThreadLocalMap");
            return new ThreadLoan(budget, lookup.findVarHandle(Thread.class, "threadLocals", map),
                    lookup.findVarHandle(Thread.class, "inheritableThreadLocals", map));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.info("model code runs on cell workers only (java.lang is not open to the server: {})", e.toString());
            return none();
        }
    }

    /** Lends nothing: every call of {@link #tryRun} answers false. */
    static ThreadLoan none() {
        return new ThreadLoan(0, null, null);
    }

    /**
     * Runs {@code task} on this thread dressed as one of the cell's workers, if a thread may be lent now.
     *
     * @return false, without running anything, when none may
     */
    boolean tryRun(Runnable task, ClassLoader loader, Locals cell) {
        if (locals == null || !budget.tryAcquire()) {
            return false;
        }
        Thread thread = Thread.currentThread();
        String ownName = thread.getName();
        ClassLoader ownLoader = thread.getContextClassLoader();
        Object ownLocals = locals.get(thread);
        Object ownInheritable = inheritable.get(thread);
        Object[] theirs = cell.take(thread);
        locals.set(thread, theirs[0]);
        inheritable.set(thread, theirs[1]);
        thread.setContextClassLoader(loader);
        try {
            task.run();
        } finally {
            theirs[0] = locals.get(thread);
            theirs[1] = inheritable.get(thread);
            locals.set(thread, ownLocals);
            inheritable.set(thread, ownInheritable);
            thread.setContextClassLoader(ownLoader);
            if (thread.getName() != ownName) { // the very same String unless the model renamed the thread
                thread.setName(ownName);
            }
            Thread.interrupted();
            budget.release();
        }
        return true;
    }

    /** One cell's thread-locals, per server thread that ran its code; dropped with the cell. */
    static final class Locals {

        private final Map<Thread, Object[]> byThread = new ConcurrentHashMap<>();
        private volatile boolean dropped;
        private volatile int pruneAt = 64;

        /**
         * The set this thread keeps for the cell: {@code [threadLocals, inheritableThreadLocals]}. Only its thread
         * reads or writes it, so it is updated in place; looking it up is one read of the map.
         */
        Object[] take(Thread thread) {
            Object[] set = byThread.get(thread);
            if (set == null) {
                set = new Object[2];
                if (!dropped) {
                    byThread.put(thread, set);
                    prune();
                }
            }
            return set;
        }

        private void prune() {
            if (byThread.size() > pruneAt) {
                // Jetty retires idle threads; a dead one's set is of no use to anyone. Looked for only when the
                // count doubled, so it costs nothing per request.
                byThread.keySet().removeIf(t -> !t.isAlive());
                pruneAt = Math.max(64, 2 * byThread.size());
            }
        }

        /** The cell closed: every thread-local value its code left goes. */
        void drop() {
            dropped = true;
            byThread.clear();
        }

        int threads() {
            return byThread.size();
        }
    }
}
