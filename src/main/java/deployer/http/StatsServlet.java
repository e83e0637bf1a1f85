package deployer.http;

import deployer.cell.CellManager;
import deployer.metrics.Stats;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.State;
import deployer.store.Store;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /api/stats}: per model, requests and errors per minute, p50/p99 latency, uptime, and the last ten
 * minutes in ten-second buckets — what the admin page's overview shows.
 */
final class StatsServlet extends HttpServlet {

    private final transient Stats stats;
    private final transient Store store;
    private final transient CellManager cells;

    StatsServlet(Stats stats, Store store, CellManager cells) {
        this.stats = stats;
        this.store = store;
        this.cells = cells;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        try {
            Map<String, Object> models = new LinkedHashMap<>();
            Instant now = Instant.now();
            for (ModelRecord model : store.models()) {
                Map<String, Object> figures = stats.of(model.name());
                if (figures == null) {
                    continue;
                }
                Deployment active = model.activeDeployId() == null ? null
                        : store.deployment(model.activeDeployId()).orElse(null);
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("version", active == null ? null : active.version());
                boolean up = active != null && active.state() == State.READY && active.readyAt() != null
                        && cells.slot(model.name()).map(s -> s.port() != 0).orElse(false);
                line.put("uptime_s", up ? Duration.between(active.readyAt(), now).toMillis() / 1000.0 : null);
                line.putAll(figures);
                Map<String, Object> batching = active == null ? null : stats.batching(model.name(), active.version());
                if (batching != null) {
                    line.putAll(batching);
                }
                models.put(model.name(), line);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("window_s", Stats.BUCKET_SECONDS * Stats.BUCKETS);
            body.put("bucket_s", Stats.BUCKET_SECONDS);
            body.put("models", models);
            JsonResponse.send(response, 200, body);
        } catch (RuntimeException e) {
            Errors.send(response, e);
        }
    }
}
