package deployer.http;

import deployer.core.Hosts;
import deployer.core.Json;
import deployer.cell.CellManager;
import deployer.cell.CellStatus;
import deployer.cell.ModelSlot;
import deployer.store.Deployment;
import deployer.store.Event;
import deployer.store.ModelRecord;
import deployer.store.State;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The API's JSON shapes (DESIGN 1.2), built field by field so the contract's names and order are plain to see. */
final class Views {

    private final CellManager cells;
    private final String cellHost;
    private final String scheme;

    Views(CellManager cells, String cellHost) {
        this(cells, cellHost, "http");
    }

    /** @param scheme {@code https} when the cell ports serve TLS */
    Views(CellManager cells, String cellHost, String scheme) {
        this.cells = cells;
        this.cellHost = cellHost;
        this.scheme = scheme;
    }

    Map<String, Object> deployment(Deployment d) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("deploy_id", d.deployId());
        view.put("model", d.model());
        view.put("version", d.version());
        view.put("state", d.state().name());
        Integer port = d.state() == State.READY ? livePort(d.model(), d.port()) : d.port();
        view.put("port", port);
        view.put("url", d.state() == State.READY && port != null ? url(port) : null);
        view.put("created", text(d.created()));
        view.put("ready_at", text(d.readyAt()));
        view.put("attempts", d.attempts());
        view.put("error", d.error());
        view.put("sha256", d.sha256());
        view.put("size", d.size());
        // What the health loop saw: a serving cell that stopped answering is READY but not healthy.
        CellStatus status = cells.status(d.model()).filter(s -> s.deployId() == d.deployId()).orElse(null);
        view.put("healthy", d.state() == State.READY && status != null && status.healthy());
        view.put("last_ping", status == null ? null : text(status.lastPing()));
        view.put("restarts", d.restarts());
        // DESIGN 1.11: a READY version serving beside the active one is a candidate, "active": false.
        int active = cells.slot(d.model()).map(ModelSlot::activeVersion).orElse(0);
        view.put("active", d.state() == State.READY && active == d.version());
        putProcess(view, d);
        return view;
    }

    /**
     * Beyond the contract's fields (optional, DESIGN 1.12), for the serving version of a process cell:
     * {@code "isolation": "process"} and its child's {@code pid}, {@code heap_mb} (0: the JVM's default) and
     * {@code rss_mb}.
     */
    private void putProcess(Map<String, Object> view, Deployment d) {
        if (cells.status(d.model()).filter(s -> s.deployId() == d.deployId()).isEmpty()) {
            return;
        }
        cells.child(d.model()).ifPresent(child -> {
            view.put("isolation", "process");
            view.put("pid", child.pid());
            view.put("heap_mb", child.heapMb());
            view.put("rss_mb", child.rssKb() < 0 ? null : child.rssKb() / 1024);
        });
    }

    /** The deployment object with one more key, {@code manifest}: the version's deploy.json as parsed JSON. */
    Map<String, Object> withManifest(Deployment d) {
        Map<String, Object> view = deployment(d);
        Object manifest = null;
        if (d.manifest() != null) {
            try {
                manifest = Json.parse(d.manifest().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // Validated at upload, so this does not happen; the version is still worth showing without it.
                manifest = null;
            }
        }
        view.put("manifest", manifest);
        return view;
    }

    /** One line of {@code GET /api/models}: the active version, or the newest when none has been READY. */
    Map<String, Object> modelLine(ModelRecord model, Deployment shown) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", model.name());
        view.put("version", shown == null ? null : shown.version());
        view.put("state", shown == null ? null : shown.state().name());
        boolean ready = shown != null && shown.state() == State.READY;
        Integer port = ready ? livePort(model.name(), model.port()) : model.port();
        view.put("port", port);
        view.put("url", ready && port != null ? url(port) : null);
        view.put("deploy_id", shown == null ? null : shown.deployId());
        // Beyond the contract's fields: what the health loop last saw of the serving cell, for the admin page.
        view.put("healthy", ready && cells.status(model.name()).filter(s -> s.deployId() == shown.deployId())
                .map(CellStatus::healthy).orElse(false));
        view.put("ready_at", ready ? text(shown.readyAt()) : null);
        if (shown != null) {
            view.put("restarts", shown.restarts());
            putProcess(view, shown);
        }
        return view;
    }

    Map<String, Object> replica(deployer.store.Replica r) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("node", r.node());
        view.put("version", r.version());
        view.put("state", r.state());
        view.put("port", r.port());
        view.put("healthy", r.healthy());
        view.put("last_ping", r.lastPing() == null ? null : text(r.lastPing()));
        view.put("seen", text(r.seen()));
        return view;
    }

    Map<String, Object> event(Event e) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("time", text(e.time()));
        view.put("model", e.model());
        view.put("version", e.version());
        view.put("deploy_id", e.deployId());
        view.put("kind", e.kind());
        view.put("message", e.message());
        if (e.node() != null) {
            view.put("node", e.node());
        }
        return view;
    }

    private Integer livePort(String model, Integer recorded) {
        int bound = cells.slot(model).map(ModelSlot::port).orElse(0);
        return bound != 0 ? Integer.valueOf(bound) : recorded;
    }

    private String url(int port) {
        String host = cellHost.equals("0.0.0.0") || cellHost.equals("::") ? "127.0.0.1" : cellHost;
        return scheme + "://" + Hosts.forUri(host) + ":" + port;
    }

    private static String text(Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
