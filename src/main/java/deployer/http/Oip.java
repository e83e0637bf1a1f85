package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.cell.CellResponse;
import deployer.cell.Call;
import deployer.cell.CellManager;
import deployer.cell.CellRequest;
import deployer.cell.ModelSlot;
import deployer.pack.Manifest;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.State;
import deployer.store.Store;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Open Inference Protocol (KServe V2) over REST: health, metadata and {@code infer}, on the main port for every
 * model and on each model's own port for that model. An {@code infer}'s inputs reach the model as a {@code Map} of
 * named inputs, each {@code {"shape", "datatype", "data"}} with the data flattened in row-major order; what the
 * model returns becomes the {@code outputs} ({@link OipOutputs}).
 */
final class Oip {

    private static final String VERSION = "0.1.0";

    private final CellManager cells;
    private final Store store;
    private final OipRepository repository;

    Oip(CellManager cells, Store store) {
        this.cells = cells;
        this.store = store;
        this.repository = new OipRepository(cells, store);
    }

    /**
     * Answers one call; {@code path} is what follows {@code /v2}. {@code only} names the model of a cell's own
     * port (whose other models do not exist there), or is null on the main port.
     */
    void handle(String path, String only, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String[] p = path.isEmpty() || path.equals("/") ? new String[0] : path.substring(1).split("/", -1);
        String method = request.getMethod();
        if (p.length == 0) {
            CellServlet.requireMethod(method, "GET", "/v2");
            JsonResponse.send(response, 200, Map.of("name", "deployer", "version", VERSION, "extensions",
                    List.of("model_repository", "binary_tensor_data")));
        } else if (p.length == 2 && p[0].equals("health") && p[1].equals("live")) {
            CellServlet.requireMethod(method, "GET", "/v2/health/live");
            JsonResponse.send(response, 200, Map.of("live", true));
        } else if (p.length == 2 && p[0].equals("health") && p[1].equals("ready")) {
            CellServlet.requireMethod(method, "GET", "/v2/health/ready");
            store.health().ifPresent(fault -> {
                throw DeployerException.unavailable("not ready: " + fault);
            });
            List<String> notReady = notReady(only);
            JsonResponse.send(response, notReady.isEmpty() ? 200 : 400, notReady.isEmpty() ? Map.of("ready", true)
                    : Map.of("ready", false, "error", "not ready: " + String.join(", ", notReady)));
        } else if (p.length >= 2 && p[0].equals("models")) {
            model(p, only, request, response);
        } else if (only == null && p.length >= 2 && p[0].equals("repository")) {
            repository(p, request, response);
        } else {
            throw DeployerException.notFound("no such path: /v2" + path);
        }
    }

    /** The repository extension (behind the token: WebServer maps the auth filter on /v2/repository/*). */
    private void repository(String[] p, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String method = request.getMethod();
        if (p.length == 2 && p[1].equals("index")) {
            CellServlet.requireMethod(method, "POST", "/v2/repository/index");
            byte[] body = read(request);
            boolean readyOnly = false;
            if (body.length > 0) {
                Object parsed = OipOutputs.parseJson(body, "the index request");
                readyOnly = parsed instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("ready"));
            }
            JsonResponse.send(response, 200, repository.index(readyOnly));
        } else if (p.length == 4 && p[1].equals("models") && (p[3].equals("load") || p[3].equals("unload"))) {
            CellServlet.requireMethod(method, "POST", "/v2/repository/models/{name}/" + p[3]);
            if (p[3].equals("load")) {
                repository.load(p[2]);
            } else {
                repository.unload(p[2]);
            }
            JsonResponse.send(response, 200, Map.of());
        } else {
            throw DeployerException.notFound("no such path: " + request.getRequestURI() + " (the repository"
                    + " extension has POST /v2/repository/index and /v2/repository/models/{name}/load|unload)");
        }
    }

    private void model(String[] p, String only, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String name = p[1];
        if (only != null && !only.equals(name)) {
            throw DeployerException.notFound("this port serves model " + only + ", not " + name);
        }
        int rest = 2;
        Integer version = null;
        if (p.length >= 4 && p[2].equals("versions")) {
            version = parseVersion(p[3]);
            rest = 4;
        }
        String action = p.length == rest ? "" : p.length == rest + 1 ? p[rest] : null;
        String method = request.getMethod();
        if ("".equals(action)) {
            CellServlet.requireMethod(method, "GET", "/v2/models/{name}");
            JsonResponse.send(response, 200, metadata(name, version));
        } else if ("ready".equals(action)) {
            CellServlet.requireMethod(method, "GET", "/v2/models/{name}/ready");
            String reason = whyNotReady(name, version);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("ready", reason == null);
            if (reason != null) {
                body.put("error", reason);
            }
            JsonResponse.send(response, reason == null ? 200 : 400, body);
        } else if ("infer".equals(action)) {
            // POSTs are scored before they reach the servlets (ScoringHandler); anything else is refused there too.
            throw new DeployerException(DeployerException.Kind.METHOD_NOT_ALLOWED,
                    "/v2/models/{name}/infer takes POST, not " + method);
        } else {
            throw DeployerException.notFound("no such path: " + request.getRequestURI());
        }
    }

    private Map<String, Object> metadata(String name, Integer version) {
        Deployment d = version == null ? activeOrNewest(name) : versionOf(name, version);
        Manifest manifest = Manifest.parse(d.manifest().getBytes(StandardCharsets.UTF_8));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        // Every version the model has (the protocol's "versions": those that can be named in versions/{v}/…)
        body.put("versions", store.deployments(name).stream().map(v -> Integer.toString(v.version())).sorted(
                java.util.Comparator.comparingInt(Integer::parseInt)).toList());
        body.put("platform", "deployer");
        body.put("inputs", manifest.inputs().stream().map(Oip::tensor).toList());
        body.put("outputs", manifest.outputs().stream().map(Oip::tensor).toList());
        OipTensors.describe(body, manifest, cells.folderOf(d), d.version(), d.state().name());
        return body;
    }

    private List<String> notReady(String only) {
        List<String> notReady = new ArrayList<>();
        for (ModelRecord model : store.models()) {
            if (only != null && !only.equals(model.name())) {
                continue;
            }
            Deployment active = model.activeDeployId() == null ? null
                    : store.deployment(model.activeDeployId()).orElse(null);
            boolean stopped = active != null && active.state() == State.STOPPED;
            if (!stopped && whyNotReady(model.name(), null) != null) {
                notReady.add(model.name());
            }
        }
        return notReady;
    }

    private String whyNotReady(String name, Integer version) {
        Deployment active = active(name);
        if (version != null) {
            versionOf(name, version);
        }
        if (active == null || active.state() != State.READY) {
            return "model " + name + " has no version READY";
        }
        if (version != null && version != active.version()) {
            return "version " + version + " is not the one serving (" + active.version() + ")";
        }
        boolean bound = cells.slot(name).map(s -> s.port() != 0).orElse(false);
        return bound ? null : "model " + name + " is not serving";
    }

    private Deployment active(String name) {
        ModelRecord model = store.model(name).orElseThrow(() -> DeployerException.notFound(
                "no model named " + Json.writeString(name)));
        return model.activeDeployId() == null ? null : store.deployment(model.activeDeployId()).orElse(null);
    }

    private Deployment activeOrNewest(String name) {
        Deployment active = active(name);
        if (active != null) {
            return active;
        }
        List<Deployment> versions = store.deployments(name);
        if (versions.isEmpty()) {
            throw DeployerException.notFound("model " + name + " has no version");
        }
        return versions.get(0);
    }

    private Deployment versionOf(String name, int version) {
        return store.deployments(name).stream().filter(d -> d.version() == version).findFirst()
                .orElseThrow(() -> DeployerException.notFound("model " + name + " has no version " + version));
    }

    private static int parseVersion(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw DeployerException.notFound("no version " + Json.writeString(text) + ": versions are 1, 2, 3 …");
        }
    }

    private static Map<String, Object> tensor(Manifest.Tensor t) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", t.name());
        view.put("datatype", t.datatype());
        view.put("shape", t.shape());
        return view;
    }

    /**
     * {@code infer} as a route of the one scoring path: the inference request's named inputs in, the model's
     * prediction out as the protocol's {@code outputs}; whatever the model answers, the client gets JSON.
     */
    static final class Infer implements ScoringHandler.ScoringRoute {

        private final Oip oip;
        private final String model;
        private final String version;
        private Map<String, Object> body;

        /** {@code version} as the path spelled it, or null when the path names none. */
        Infer(Oip oip, String model, String version) {
            this.oip = oip;
            this.model = model;
            this.version = version;
        }

        @Override
        public CellRequest input(Call call, CellRequest sent) {
            if (version != null) {
                int wanted = parseVersion(version);
                if (wanted != call.version()) {
                    oip.versionOf(model, wanted);
                    throw DeployerException.badRequest("version " + wanted + " of " + model + " is not the one"
                            + " serving (" + call.version() + "); activate it to score it");
                }
            }
            Manifest declared = call.manifest();
            Map<String, Object> inputs;
            int jsonLength = OipBinary.jsonLength(sent.headers(), sent.body().length);
            OipFastInputs.Read fast = declared.runtime() == null ? null : jsonLength < 0
                    ? OipFastInputs.read(sent.body()) : OipFastInputs.read(sent.body(), jsonLength);
            if (fast != null) {
                // A no-code runtime takes FP32/FP64 data as double[]: read in one pass, no tree of boxed numbers
                inputs = fast.inputs();
                body = new java.util.HashMap<>();
                body.put("id", fast.id());
                if (fast.binaryOutput()) {
                    body.put("parameters", Map.of("binary_data_output", true));
                }
            } else if (jsonLength >= 0) {
                // the binary tensor data extension: JSON, then the inputs' bytes (tritonclient's default)
                body = OipOutputs.parseRequest(sent.body(), jsonLength, (request, offset) -> OipBinary.readInputs(
                        request.get("inputs"), sent.body(), offset, declared.runtime() != null));
                inputs = OipOutputs.namedInputs(body);
            } else {
                body = OipOutputs.parseRequest(sent.body());
                inputs = OipOutputs.namedInputs(body);
            }
            // The ONNX runtime reads tensors, not rows, from a request that says it is the protocol's.
            Map<String, List<String>> headers = new WithProtocol(sent.headers());
            // A script model that declares its inputs gets them as typed arrays; others the map of tensors
            return CellRequest.ofValue(declared.runtime() == null && !declared.inputs().isEmpty()
                    ? OipTensors.typed(inputs, declared.inputs()) : inputs, headers).answeredAsValue();
        }

        @Override
        public CellResponse output(Call call, CellResponse answer) {
            boolean json = answer.contentType() != null
                    && answer.contentType().toLowerCase(java.util.Locale.ROOT).startsWith("application/json");
            if (!json) {
                if (answer.status() >= 400) {
                    throw new DeployerException(kindOf(answer.status()), "model " + model + " answered "
                            + answer.status() + ": " + snippet(answer));
                }
                throw new DeployerException(DeployerException.Kind.INTERNAL, "model " + model + " answered "
                        + answer.contentType() + ", not JSON; an Open Inference Protocol answer is JSON (reply"
                        + " with Reply.json)");
            }
            boolean binary = OipBinary.anyBinary(body);
            if (answer.status() < 400 && call.manifest().runtime() != null && body.get("outputs") == null) {
                // a no-code runtime's typed outputs, written as they are: as JSON, or all as binary
                String id = (String) body.get("id");
                if (!binary) {
                    byte[] fast = OipFastOutputs.write(model, call.version(), id, answer.value());
                    if (fast != null) {
                        return new CellResponse(200, "application/json", fast);
                    }
                } else {
                    OipBinary.Answer fast = OipFastOutputs.writeBinary(model, call.version(), id, answer.value());
                    if (fast != null) {
                        return fast.response();
                    }
                }
            }
            // The model's own value in the JSON types (Long, Double …) whatever it built them from; parsed back from
            // the bytes only when it holds something else (a record, say).
            Object prediction = JsonTypes.of(answer.value());
            if (prediction == null) {
                try {
                    prediction = Json.parse(answer.body() != null ? answer.body() : call.json(answer.value()));
                } catch (IOException e) {
                    throw new DeployerException(DeployerException.Kind.INTERNAL, "model " + model
                            + " answered a body labelled JSON that is not JSON: " + e.getMessage());
                }
            }
            if (answer.status() >= 400) {
                // the model's own error, as it wrote it (the value was not written for this route: do it now)
                return answer.body() != null ? answer : new CellResponse(answer.status(), answer.contentType(),
                        call.json(answer.value()), answer.value());
            }
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("model_name", model);
            reply.put("model_version", Integer.toString(call.version()));
            if (body.get("id") != null) {
                reply.put("id", body.get("id"));
            }
            reply.put("outputs", OipOutputs.outputs(prediction, call.manifest().outputs(),
                    OipOutputs.requested(body)));
            try {
                if (binary) {
                    return OipBinary.write(reply, body).response();
                }
                return new CellResponse(200, "application/json", Json.write(reply));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new DeployerException(DeployerException.Kind.INTERNAL, "model " + model
                        + " answered outputs that cannot be written as JSON: " + e.getOriginalMessage());
            }
        }

        private static String snippet(CellResponse answer) {
            String type = answer.contentType() == null ? "" : answer.contentType();
            if (!type.startsWith("text/")) {
                return answer.body().length + " bytes of " + (type.isEmpty() ? "no content type" : type);
            }
            String text = new String(answer.body(), 0, Math.min(answer.body().length, 200), StandardCharsets.UTF_8);
            return text.strip();
        }

        private static DeployerException.Kind kindOf(int status) {
            for (DeployerException.Kind kind : DeployerException.Kind.values()) {
                if (kind.status() == status) {
                    return kind;
                }
            }
            return status < 500 ? DeployerException.Kind.BAD_REQUEST : DeployerException.Kind.INTERNAL;
        }
    }

    /**
     * The request's headers with the protocol's mark added, unmodifiable, without copying them: a copy of every
     * header per {@code infer} was a tenth of the route's own time in benchmark row 12's profile.
     */
    private static final class WithProtocol extends java.util.AbstractMap<String, List<String>> {
        private static final List<String> OIP = List.of("oip");
        private final Map<String, List<String>> sent;
        private java.util.Set<Map.Entry<String, List<String>>> entries;

        WithProtocol(Map<String, List<String>> sent) {
            this.sent = sent;
        }

        @Override
        public List<String> get(Object key) {
            return OipTensors.PROTOCOL_HEADER.equals(key) ? OIP : sent.get(key);
        }

        @Override
        public boolean containsKey(Object key) {
            return OipTensors.PROTOCOL_HEADER.equals(key) || sent.containsKey(key);
        }

        @Override
        public java.util.Set<Map.Entry<String, List<String>>> entrySet() {
            if (entries == null) {
                Map<String, List<String>> all = new java.util.HashMap<>(sent);
                all.put(OipTensors.PROTOCOL_HEADER, OIP);
                entries = java.util.Collections.unmodifiableMap(all).entrySet();
            }
            return entries;
        }
    }

    /** The largest body of a repository call: a few flags, never a tensor. */
    private static final int MAX_REPOSITORY_BODY = 64 * 1024;

    private static byte[] read(HttpServletRequest request) throws IOException {
        try (java.io.InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(MAX_REPOSITORY_BODY + 1);
            if (body.length > MAX_REPOSITORY_BODY) {
                throw DeployerException.tooLarge("a repository request body is over " + (MAX_REPOSITORY_BODY >> 10)
                        + " KiB; it takes {\"ready\": true} at most");
            }
            return body;
        }
    }
}
