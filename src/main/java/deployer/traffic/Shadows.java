package deployer.traffic;

import com.fasterxml.jackson.databind.JsonNode;
import deployer.core.Json;
import deployer.cell.CellResponse;
import deployer.cell.Call;
import deployer.cell.CellRequest;
import deployer.cell.ModelSlot;
import deployer.cell.VersionChoice;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow scoring on capacity of its own: a bounded queue and a small pool of threads, so a slow or failing shadow
 * version never holds a thread or a slot of real traffic. A copy that does not fit in the queue is dropped and
 * counted. Each outcome ({@code same} when status and JSON replies are equal, {@code different}, {@code error}) is
 * counted in {@code deployer_shadow_total}; the last differing pairs are kept per model.
 */
final class Shadows implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Shadows.class);
    static final int THREADS = 2;
    static final int QUEUE = 256;
    static final int KEPT_DIFFERENCES = 10;
    private static final int SHOWN_BYTES = 4096;

    private final ThreadPoolExecutor pool;
    private final ShadowMeter meter;
    private final Map<String, Tally> tallies = new ConcurrentHashMap<>();

    Shadows(ShadowMeter meter) {
        this.meter = meter;
        AtomicInteger count = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "deployer-shadow-" + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** Per model: the outcomes so far and the last differing pairs. */
    static final class Tally {
        final LongAdder same = new LongAdder();
        final LongAdder different = new LongAdder();
        final LongAdder error = new LongAdder();
        final LongAdder dropped = new LongAdder();
        private final Deque<Map<String, Object>> differences = new ArrayDeque<>();

        synchronized void differed(Map<String, Object> pair) {
            differences.addFirst(pair);
            while (differences.size() > KEPT_DIFFERENCES) {
                differences.removeLast();
            }
        }

        synchronized List<Map<String, Object>> differences() {
            return new ArrayList<>(differences);
        }
    }

    Tally tally(String model) {
        return tallies.computeIfAbsent(model, m -> new Tally());
    }

    void forget(String model) {
        tallies.remove(model);
    }

    /** Queues one copy; never blocks: a full queue drops it. */
    void offer(ModelSlot slot, int shadowVersion, CellRequest request, CellResponse real, int realVersion) {
        try {
            pool.execute(() -> run(slot, shadowVersion, request, real, realVersion));
        } catch (RejectedExecutionException full) {
            tally(slot.name()).dropped.increment();
            meter.shadow(slot.name(), shadowVersion, "dropped");
        }
    }

    private void run(ModelSlot slot, int version, CellRequest request, CellResponse real, int realVersion) {
        String model = slot.name();
        Tally tally = tally(model);
        CellResponse shadow = null;
        String outcome;
        try {
            Call call = slot.admit("shadow-" + request.requestId(), VersionChoice.pinned(version));
            CompletableFuture<CellResponse> answered = new CompletableFuture<>();
            int status = 500;
            try {
                call.score(request, false, (a, failure) -> {
                    if (failure != null) {
                        answered.completeExceptionally(failure);
                    } else {
                        answered.complete(a);
                    }
                });
                shadow = answered.join();
                status = shadow.status();
            } finally {
                call.finish(status);
            }
            outcome = shadow.status() >= 500 ? "error" : same(real, shadow) ? "same" : "different";
        } catch (RuntimeException e) {
            // The shadow's failure is counted, never the client's concern: no stack trace, below WARN.
            log.debug("{} v{} - shadow scoring failed: {}", model, version, e.toString());
            outcome = "error";
        }
        switch (outcome) {
            case "same" -> tally.same.increment();
            case "different" -> tally.different.increment();
            default -> tally.error.increment();
        }
        meter.shadow(model, version, outcome);
        if (!"same".equals(outcome)) {
            Map<String, Object> pair = new LinkedHashMap<>();
            pair.put("time", Instant.now().toString());
            pair.put("version", realVersion);
            pair.put("shadow_version", version);
            pair.put("outcome", outcome);
            pair.put("request", shown(request.body()));
            pair.put("reply", shown(real.body()));
            pair.put("shadow_reply", shadow == null ? null : shown(shadow.body()));
            tally.differed(pair);
        }
    }

    /** Equal when the statuses are and the bodies are equal JSON (or, not JSON, equal bytes). */
    static boolean same(CellResponse a, CellResponse b) {
        if (a.status() != b.status()) {
            return false;
        }
        if (java.util.Arrays.equals(a.body(), b.body())) {
            return true;
        }
        try {
            JsonNode x = Json.mapper().readTree(a.body());
            JsonNode y = Json.mapper().readTree(b.body());
            return x != null && x.equals(y);
        } catch (java.io.IOException notJson) {
            return false;
        }
    }

    private static String shown(byte[] body) {
        String text = new String(body, 0, Math.min(body.length, SHOWN_BYTES), StandardCharsets.UTF_8);
        return body.length > SHOWN_BYTES ? text + "…" : text;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
