package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.cell.ModelLogs;
import deployer.pack.Manifest;
import deployer.store.Store;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/models/{name}/logs?since=&limit=}: the model's own log lines, oldest first, as
 * {@code [{"seq","time","level","model","version","message"}]}; pass the last {@code seq} back as {@code since}
 * to get only the lines written after it.
 */
final class ModelLogView {

    static final int DEFAULT_LIMIT = 200;
    static final int MAX_LIMIT = ModelLogs.LINES_PER_CELL * 4;

    private ModelLogView() {
    }

    static List<Map<String, Object>> lines(Store store, ModelLogs logs, String name, HttpServletRequest request) {
        Manifest.checkName(name);
        if (store.model(name).isEmpty()) {
            throw DeployerException.notFound("no model named " + Json.writeString(name));
        }
        long since = number(request, "since", 0, Long.MAX_VALUE, 0);
        int limit = (int) number(request, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
        List<Map<String, Object>> view = new ArrayList<>();
        for (ModelLogs.Line line : logs.since(name, since, limit)) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("seq", line.seq());
            item.put("time", line.time().toString());
            item.put("level", line.level());
            item.put("model", line.model());
            item.put("version", line.version());
            item.put("message", line.message());
            view.add(item);
        }
        return view;
    }

    private static long number(HttpServletRequest request, String name, long min, long max, long otherwise) {
        String value = request.getParameter(name);
        if (value == null || value.isBlank()) {
            return otherwise;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw DeployerException.badRequest("?" + name + "= must be a whole number from " + min + " to " + max
                + ", not " + Json.writeString(value));
    }
}
