package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.cell.CellManager;
import deployer.pack.Manifest;
import deployer.pack.PackageReceiver;
import deployer.pack.StagedPackage;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.Store;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The management API under {@code /api} (DESIGN 1.2). The token was checked by {@link AuthFilter}. */
final class ApiServlet extends HttpServlet {

    static final int MAX_WAIT_SECONDS = 3600;
    static final int DEFAULT_EVENTS = 100;
    static final int MAX_EVENTS = 10_000;
    static final int DEFAULT_CONTROL_WAIT_SECONDS = 60;

    private final transient Store store;
    private final transient CellManager cells;
    private final transient PackageReceiver receiver;
    private final transient Views views;
    /** Traffic between versions (DESIGN 1.11); null when the server runs without it. */
    private final transient TrafficCalls traffic;

    ApiServlet(Store store, CellManager cells, PackageReceiver receiver, Views views) {
        this(store, cells, receiver, views, null);
    }

    ApiServlet(Store store, CellManager cells, PackageReceiver receiver, Views views, TrafficCalls traffic) {
        this.traffic = traffic;
        this.store = store;
        this.cells = cells;
        this.receiver = receiver;
        this.views = views;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        try {
            route(request, response);
        } catch (Exception e) {
            Errors.send(response, e);
        }
    }

    private void route(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
        String[] p = path.substring(1).split("/", -1);
        String method = request.getMethod();
        if (p.length == 1 && p[0].equals("deployments")) {
            CellServlet.requireMethod(method, "POST", "/api/deployments");
            upload(request, response);
        } else if (p.length == 3 && p[0].equals("deployments") && p[2].equals("package")) {
            CellServlet.requireMethod(method, "GET", "/api/deployments/{deploy_id}/package");
            downloadPackage(deployment(p[1]), response);
        } else if (p.length == 2 && p[0].equals("deployments")) {
            CellServlet.requireMethod(method, "GET", "/api/deployments/{deploy_id}");
            JsonResponse.send(response, 200, views.deployment(deployment(p[1])));
        } else if (p.length == 3 && p[0].equals("deployments") && p[2].equals("cancel")) {
            CellServlet.requireMethod(method, "POST", "/api/deployments/{deploy_id}/cancel");
            JsonResponse.send(response, 200, views.deployment(cells.cancel(deployment(p[1]).deployId())));
        } else if (p.length == 1 && p[0].equals("health")) {
            CellServlet.requireMethod(method, "GET", "/api/health");
            health(response);
        } else if (p.length == 1 && p[0].equals("models")) {
            CellServlet.requireMethod(method, "GET", "/api/models");
            JsonResponse.send(response, 200, models());
        } else if (p.length == 2 && p[0].equals("models") && method.equals("DELETE")) {
            delete(p[1], request, response);
        } else if (p.length == 2 && p[0].equals("models")) {
            CellServlet.requireMethod(method, "GET", "/api/models/{name}");
            JsonResponse.send(response, 200, model(p[1]));
        } else if (p.length == 3 && p[0].equals("models") && p[2].equals("logs")) {
            CellServlet.requireMethod(method, "GET", "/api/models/{name}/logs");
            JsonResponse.send(response, 200, ModelLogView.lines(store, cells.logs(), p[1], request));
        } else if (p.length == 3 && p[0].equals("models") && p[2].equals("traffic") && traffic != null) {
            traffic.traffic(p[1], request, response);
        } else if (p.length == 3 && p[0].equals("models") && p[2].equals("payloads") && traffic != null) {
            traffic.payloads(p[1], request, response);
        } else if (p.length == 3 && p[0].equals("models")) {
            CellServlet.requireMethod(method, "POST", "/api/models/{name}/" + p[2]);
            Manifest.checkName(p[1]);
            CompletableFuture<Deployment> outcome = switch (p[2]) {
                case "stop" -> cells.stop(p[1]);
                case "start" -> cells.start(p[1]);
                case "restart" -> cells.restart(p[1]);
                default -> throw DeployerException.notFound("no such API path: /api" + path
                        + " (models take stop, start, restart, versions/{v}/activate)");
            };
            answer(outcome, request, response);
        } else if (p.length == 4 && p[0].equals("models") && p[2].equals("versions")) {
            CellServlet.requireMethod(method, "DELETE", "/api/models/{name}/versions/{v}");
            Manifest.checkName(p[1]);
            VersionDelete.run(cells.deleteVersion(p[1], version(p[3])), response);
        } else if (p.length == 5 && p[0].equals("models") && p[2].equals("versions") && p[4].equals("activate")) {
            CellServlet.requireMethod(method, "POST", "/api/models/{name}/versions/{v}/activate");
            answer(cells.activate(p[1], version(p[3])), request, response);
        } else if (p.length == 2 && p[0].equals("libs") && p[1].equals("missing")) {
            CellServlet.requireMethod(method, "POST", "/api/libs/missing");
            JsonResponse.send(response, 200, LibsCall.missing(receiver.libs(), request));
        } else if (p.length == 1 && p[0].equals("events")) {
            CellServlet.requireMethod(method, "GET", "/api/events");
            JsonResponse.send(response, 200, events(request));
        } else {
            throw DeployerException.notFound("no such API path: /api" + path);
        }
    }

    /** {@code GET /api/health}: 200 while the database answers and takes writes; else 503 with the reason. */
    private void health(HttpServletResponse response) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        String fault = store.health().orElse(null);
        body.put("status", fault == null ? "UP" : "DOWN");
        body.put("database", fault == null ? "UP" : "DOWN");
        if (fault != null) {
            body.put("error", fault + "; scoring on READY models goes on, the API is back once writes succeed");
        }
        JsonResponse.send(response, fault == null ? 200 : 503, body);
    }

    /** A version's stored package, as a zip with the classes compiled from its scripts (DESIGN 1.12). */
    private void downloadPackage(Deployment d, HttpServletResponse response) throws IOException {
        java.nio.file.Path folder = cells.folderOf(d);
        if (!java.nio.file.Files.isDirectory(folder)) {
            throw DeployerException.notFound("the files of version " + d.version() + " of " + d.model()
                    + " are gone; upload it again");
        }
        response.setStatus(200);
        response.setContentType("application/zip");
        response.setHeader("Content-Disposition", "attachment; filename=\"" + d.model() + "-v" + d.version()
                + ".zip\"");
        deployer.pack.PackageZip.write(folder, response.getOutputStream());
    }

    private void upload(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Integer wait = intParam(request, "wait", 0, MAX_WAIT_SECONDS);
        CellManager.Accepted accepted;
        try (StagedPackage staged = receiver.receive(request)) {
            accepted = cells.accept(staged, activate(request));
        } catch (DeployerException refused) {
            PackageReceiver.drain(request);
            throw refused;
        } catch (RuntimeException e) {
            if (Errors.diskFull(e)) {
                PackageReceiver.drain(request);
                throw new DeployerException(DeployerException.Kind.INSUFFICIENT_STORAGE, "no space left to store"
                        + " the upload in the server's data folder " + cells.dataFolder() + ": free space there (or"
                        + " delete models with ?purge=true) and upload again", e);
            }
            throw e;
        }
        Deployment d = accepted.deployment();
        String statusUrl = baseUrl(request) + "/api/deployments/" + d.deployId();
        if (wait != null && wait > 0) {
            try {
                Deployment outcome = accepted.outcome().get(wait, TimeUnit.SECONDS);
                Map<String, Object> view = views.deployment(outcome);
                view.put("status_url", statusUrl);
                JsonResponse.send(response, 200, view);
                return;
            } catch (TimeoutException e) {
                Map<String, Object> view = views.deployment(store.deployment(d.deployId()).orElse(d));
                view.put("status_url", statusUrl);
                JsonResponse.send(response, 202, view);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                throw new IllegalStateException("deploy outcome failed", e.getCause());
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("deploy_id", d.deployId());
        body.put("model", d.model());
        body.put("version", d.version());
        body.put("state", d.state().name());
        body.put("status_url", statusUrl);
        JsonResponse.send(response, 202, body);
    }

    /** Waits up to {@code ?wait=} (default {@value #DEFAULT_CONTROL_WAIT_SECONDS} s) for a lifecycle operation. */
    private void answer(CompletableFuture<Deployment> outcome, HttpServletRequest request,
                        HttpServletResponse response) throws IOException {
        Integer wait = intParam(request, "wait", 0, MAX_WAIT_SECONDS);
        try {
            Deployment d = outcome.get(wait == null ? DEFAULT_CONTROL_WAIT_SECONDS : wait, TimeUnit.SECONDS);
            JsonResponse.send(response, 200, views.deployment(d));
        } catch (TimeoutException e) {
            JsonResponse.send(response, 202, Map.of("state", "in progress", "message",
                    "still working; GET /api/models/{name} shows the outcome"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw DeployerException.unavailable("the server is stopping");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DeployerException known) {
                throw known;
            }
            throw new IllegalStateException("lifecycle operation failed", e.getCause());
        }
    }

    private void delete(String name, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Manifest.checkName(name);
        String purge = queryParam(request, "purge");
        if (purge != null && !purge.equals("true") && !purge.equals("false")) {
            throw DeployerException.badRequest("?purge= must be true or false, not " + Json.writeString(purge));
        }
        CompletableFuture<Void> done = cells.delete(name, "true".equals(purge));
        try {
            done.get(MAX_WAIT_SECONDS, TimeUnit.SECONDS);
            response.setStatus(204);
        } catch (TimeoutException e) {
            JsonResponse.send(response, 202, Map.of("state", "in progress"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw DeployerException.unavailable("the server is stopping");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DeployerException known) {
                throw known;
            }
            throw new IllegalStateException("delete failed", e.getCause());
        }
    }

    private static int version(String text) {
        try {
            int v = Integer.parseInt(text);
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw DeployerException.notFound("no version " + Json.writeString(text) + ": versions are 1, 2, 3 …");
    }

    private Deployment deployment(String id) {
        long deployId;
        try {
            deployId = Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw DeployerException.notFound("no deployment " + Json.writeString(id)
                    + ": a deploy_id is a number, as the upload answered");
        }
        return store.deployment(deployId).orElseThrow(() -> DeployerException.notFound("no deployment " + id));
    }

    private List<Map<String, Object>> models() {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (ModelRecord model : store.models()) {
            lines.add(views.modelLine(model, Store.shown(model, store.deployments(model.name()))));
        }
        return lines;
    }

    private Map<String, Object> model(String name) {
        ModelRecord model = store.model(name).orElseThrow(() -> DeployerException.notFound(
                "no model named " + Json.writeString(name) + "; GET /api/models lists them"));
        List<Deployment> versions = store.deployments(name);
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", model.name());
        Deployment active = model.activeDeployId() == null ? null
                : versions.stream().filter(d -> d.deployId() == model.activeDeployId()).findFirst().orElse(null);
        view.put("active", active == null ? null : views.withManifest(active));
        view.put("versions", versions.stream().map(views::withManifest).toList());
        List<deployer.store.Replica> replicas = store.replicas(name);
        if (!replicas.isEmpty()) {
            // Replicas on a shared database (DESIGN 1.12): each server's own view, as it last reported it.
            view.put("replicas", replicas.stream().map(views::replica).toList());
        }
        return view;
    }

    private List<Map<String, Object>> events(HttpServletRequest request) {
        String model = queryParam(request, "model");
        if (model != null && model.isBlank()) {
            model = null;
        }
        if (model != null) {
            Manifest.checkName(model);
        }
        Integer limit = intParam(request, "limit", 1, MAX_EVENTS);
        return store.events(model, limit == null ? DEFAULT_EVENTS : limit).stream().map(views::event).toList();
    }

    /**
     * Reads a query parameter from the query string only: {@code getParameter} would read the body of a form post,
     * and the upload's body is the package, which the receiver streams.
     */
    static String queryParam(HttpServletRequest request, String name) {
        String query = request.getQueryString();
        if (query == null) {
            return null;
        }
        try {
            return FormFields.first(query, name);
        } catch (IllegalArgumentException e) {
            throw DeployerException.badRequest("the query string is not valid URL encoding: " + e.getMessage());
        }
    }

    /** {@code ?activate=false}: the new version serves beside the active one (DESIGN 1.11). */
    private static boolean activate(HttpServletRequest request) {
        String value = queryParam(request, "activate");
        if (value == null || value.equals("true")) {
            return true;
        }
        if (value.equals("false")) {
            return false;
        }
        throw DeployerException.badRequest("?activate= must be true or false, not " + Json.writeString(value));
    }

    private static Integer intParam(HttpServletRequest request, String name, int min, int max) {
        String value = queryParam(request, name);
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw DeployerException.badRequest("?" + name + "= must be a whole number from " + min + " to " + max
                + ", not " + Json.writeString(value));
    }

    private static String baseUrl(HttpServletRequest request) {
        String host = request.getHeader("Host");
        return request.getScheme() + "://" + (host != null ? host
                : request.getServerName() + ":" + request.getServerPort());
    }
}
