package deployer.cell;

import deployer.core.Hosts;
import deployer.store.Store;
import java.net.URI;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pings every serving cell on its own port at a fixed interval, over real HTTP, so what the API shows is what a
 * client would see. After a run of failed pings the cell is restarted — a fresh cell of the same version, swapped
 * in only once it answers — with Fibonacci back-off between tries, capped, so a model that cannot come back is
 * not restarted in a tight loop.
 */
final class HealthLoop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthLoop.class);
    static final long FIRST_BACKOFF_MS = 1_000;
    static final long MAX_BACKOFF_MS = 60_000;

    private final Supplier<Collection<ModelSlot>> slots;
    private final Pinger pinger;
    private final String pingHost;
    private final long intervalMs;
    private final int failuresBeforeRestart;
    /** The manager's restart of a model's serving cell ({@link #restartWith}), set once before the loop starts. */
    private volatile BiConsumer<ModelSlot, String> restart;
    private final ScheduledExecutorService scheduler;
    private final Store store;
    private final CellObserver observer;
    private final Map<String, Backoff> backoffs = new ConcurrentHashMap<>();
    private ScheduledFuture<?> task;
    /** Set at a stop: a ping answered after it (by a port closing) is not a failure of the model's. */
    private volatile boolean closed;

    /** Per model: when the next restart may happen, and the two last waits (Fibonacci). */
    private record Backoff(long notBeforeNanos, long previousMs, long currentMs) {
        Backoff next() {
            long wait = Math.min(MAX_BACKOFF_MS, previousMs + currentMs);
            return new Backoff(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(currentMs), currentMs, wait);
        }
    }

    HealthLoop(Supplier<Collection<ModelSlot>> slots, Pinger pinger, String pingHost, long intervalMs,
               int failuresBeforeRestart, ScheduledExecutorService scheduler, Store store, CellObserver observer) {
        this.observer = observer;
        this.slots = slots;
        this.pinger = pinger;
        this.pingHost = pingHost;
        this.intervalMs = intervalMs;
        this.failuresBeforeRestart = failuresBeforeRestart;
        this.scheduler = scheduler;
        this.store = store;
    }

    /** Who restarts an unhealthy model: the manager, which owns the models' operations (it calls this once). */
    void restartWith(BiConsumer<ModelSlot, String> restart) {
        this.restart = restart;
    }

    void start() {
        task = scheduler.scheduleWithFixedDelay(this::round, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    private void round() {
        if (closed) {
            return;
        }
        try {
            for (ModelSlot slot : slots.get()) {
                Cell cell = slot.active();
                int port = slot.port();
                if (cell != null && port != 0) {
                    ping(slot, cell, port);
                }
            }
        } catch (RuntimeException e) {
            log.warn("health round failed: {}", e.toString());
        }
    }

    private void ping(ModelSlot slot, Cell cell, int port) {
        URI health = URI.create("http://" + Hosts.forUri(pingHost) + ":" + port
                + "/health");
        pinger.once(health, cell.id().instance(), cell.manifest().health().timeoutMs())
                .thenAccept(failure -> heard(slot, cell, failure))
                .exceptionally(e -> {
                    log.warn("{} - handling a ping failed: {}", cell.id(), e.toString());
                    return null;
                });
    }

    private void heard(ModelSlot slot, Cell cell, String failure) {
        if (closed) {
            return;
        }
        boolean wasHealthy = cell.healthy();
        int failedInRow = cell.recordPing(failure == null);
        CellId id = cell.id();
        if (failure == null) {
            if (!wasHealthy) {
                store.event(id.model(), id.version(), id.deployId(), "recovered", "answers its pings again");
            }
            backoffs.remove(id.model());
            return;
        }
        observer.pingFailed(id.model());
        store.event(id.model(), id.version(), id.deployId(), "ping-failed",
                "ping failed (" + failedInRow + " in a row): " + failure);
        log.warn("{} - health check failed ({} in a row): {}", id, failedInRow, failure);
        if (failedInRow < failuresBeforeRestart || slot.busy() || slot.active() != cell) {
            return;
        }
        Backoff backoff = backoffs.getOrDefault(id.model(), new Backoff(0, 0, FIRST_BACKOFF_MS));
        if (System.nanoTime() - backoff.notBeforeNanos() < 0) {
            return;
        }
        backoffs.put(id.model(), backoff.next());
        restart.accept(slot, "restarting after " + failedInRow + " failed pings (next try no sooner than "
                + backoff.currentMs() + " ms)");
    }

    /**
     * A serving cell was lost outright (its process exited): restarted without waiting for failed pings, as soon as
     * the model's back-off allows, unless another operation on the model is under way (tried again after it).
     */
    void lost(ModelSlot slot, Cell cell, String why) {
        if (closed || slot.active() != cell) {
            return;
        }
        if (slot.busy()) {
            scheduler.schedule(() -> lost(slot, cell, why), FIRST_BACKOFF_MS, TimeUnit.MILLISECONDS);
            return;
        }
        CellId id = cell.id();
        Backoff backoff = backoffs.getOrDefault(id.model(), new Backoff(0, 0, FIRST_BACKOFF_MS));
        long waitNanos = backoff.notBeforeNanos() - System.nanoTime();
        if (waitNanos > 0) {
            scheduler.schedule(() -> lost(slot, cell, why), waitNanos, TimeUnit.NANOSECONDS);
            return;
        }
        backoffs.put(id.model(), backoff.next());
        restart.accept(slot, "restarting: " + why + " (next try no sooner than " + backoff.currentMs() + " ms)");
    }

    @Override
    public void close() {
        closed = true;
        if (task != null) {
            task.cancel(false);
        }
    }
}
