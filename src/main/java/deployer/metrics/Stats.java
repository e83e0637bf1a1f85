package deployer.metrics;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Requests, errors and latency per model over the last ten minutes, in ten-second buckets: what the admin page's
 * overview shows and charts ({@code GET /api/stats}).
 */
public final class Stats {

    public static final int BUCKET_SECONDS = 10;
    public static final int BUCKETS = 60;
    private static final long BUCKET_NANOS = TimeUnit.SECONDS.toNanos(BUCKET_SECONDS);

    private final Map<String, Window> windows = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;
    private final long wallOffsetMillis;

    public Stats() {
        this(System::nanoTime);
    }

    Stats(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.wallOffsetMillis = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong());
    }

    void record(String model, int status, long nanos) {
        windows.computeIfAbsent(model, m -> new Window(BUCKET_NANOS, BUCKETS + 1))
                .record(nanoClock.getAsLong(), status, nanos);
    }

    /**
     * One model's figures: requests and errors per minute and p50/p99 over the last minute, and the history of the
     * last {@value #BUCKETS} finished buckets, oldest first. Null when the model never had a request.
     */
    public Map<String, Object> of(String model) {
        Window window = windows.get(model);
        if (window == null) {
            return null;
        }
        long now = nanoClock.getAsLong();
        long current = window.epochOf(now);
        List<Map<String, Object>> history = new ArrayList<>();
        long lastMinuteRequests = 0;
        long lastMinuteErrors = 0;
        long lastMinuteClientErrors = 0;
        long[] lastMinuteBins = new long[Window.BINS];
        int minuteBuckets = 60 / BUCKET_SECONDS;
        for (long epoch = current - BUCKETS + 1; epoch <= current; epoch++) {
            Window.Bucket bucket = window.at(epoch);
            long requests = bucket == null ? 0 : bucket.requests();
            long errors = bucket == null ? 0 : bucket.errors();
            long clientErrors = bucket == null ? 0 : bucket.clientErrors();
            long[] bins = new long[Window.BINS];
            if (bucket != null) {
                for (int i = 0; i < bins.length; i++) {
                    bins[i] = bucket.bins.get(i);
                }
            }
            if (epoch > current - minuteBuckets) {
                lastMinuteRequests += requests;
                lastMinuteErrors += errors;
                lastMinuteClientErrors += clientErrors;
                for (int i = 0; i < bins.length; i++) {
                    lastMinuteBins[i] += bins[i];
                }
            }
            Map<String, Object> point = new LinkedHashMap<>();
            long startNanos = epoch * BUCKET_NANOS;
            point.put("time", Instant.ofEpochMilli(wallOffsetMillis + TimeUnit.NANOSECONDS.toMillis(startNanos))
                    .toString());
            point.put("requests", requests);
            point.put("errors", errors);
            point.put("client_errors", clientErrors);
            point.put("p50_ms", rounded(Window.quantile(bins, 0.50)));
            point.put("p99_ms", rounded(Window.quantile(bins, 0.99)));
            history.add(point);
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("requests_per_min", (double) lastMinuteRequests);
        figures.put("errors_per_min", (double) lastMinuteErrors);
        figures.put("client_errors_per_min", (double) lastMinuteClientErrors);
        figures.put("p50_ms", rounded(Window.quantile(lastMinuteBins, 0.50)));
        figures.put("p99_ms", rounded(Window.quantile(lastMinuteBins, 0.99)));
        figures.put("history", history);
        return figures;
    }

    private static Double rounded(double ms) {
        return Double.isNaN(ms) ? null : Math.round(ms * 1000) / 1000.0;
    }
}
