package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.cell.CellResponse;
import deployer.cell.Call;
import deployer.cell.CellManager;
import deployer.cell.CellRequest;
import deployer.cell.CellThreads;
import deployer.cell.ModelSlot;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The routes into the one scoring path, in front of the servlets: {@code POST /predict} (and {@code /}) on a
 * model's own port, {@code POST /models/{name}/predict} on the main port, and {@code POST /v2/models/{name}[/versions/
 * {v}]/infer} on both. Each route only names the model and adapts the body in and the answer out
 * ({@link ScoringRoute}); admission, the body's limits and deadline, scoring, errors, metering and the access log
 * are the same for all ({@link ScoringExchange}). Everything else goes on to the servlets.
 *
 * <p>A Jetty core handler rather than a servlet: it reads the body without blocking (a client that trickles its
 * body holds no thread), and it costs less per request than the servlet layer it replaces.
 */
final class ScoringHandler extends Handler.Wrapper {

    static final String MAIN = "main";
    private static final String MODELS = "/models/";
    private static final String PREDICT = "/predict";
    private static final String V2_MODELS = "/v2/models/";
    private static final String INFER = "/infer";

    private final CellManager cells;
    private final ScoringMemory memory;
    /** With {@code --require-score-token}: who may score; null when anyone may. */
    private final ScoreTokens scoreTokens;
    private final Map<String, ModelSlot> byConnector = new ConcurrentHashMap<>();
    private volatile Oip oip;
    /** Which version of a model each request goes to (DESIGN 1.11); null: always the active one. */
    private volatile deployer.traffic.Traffic traffic;

    ScoringHandler(CellManager cells, ScoringMemory memory, ScoreTokens scoreTokens) {
        this.cells = cells;
        this.memory = memory;
        this.scoreTokens = scoreTokens;
    }

    /** Requests on connector {@code connector} are for {@code slot}'s model. */
    void serve(String connector, ModelSlot slot) {
        byConnector.put(connector, slot);
    }

    void forget(String connector) {
        byConnector.remove(connector);
    }

    void oip(Oip protocol) {
        this.oip = protocol;
    }

    void traffic(deployer.traffic.Traffic split) {
        this.traffic = split;
    }

    /**
     * Blocking, whatever the handlers behind it say: it runs a model's code, so Jetty must hand each request to a
     * thread of the pool and never run it on the selector's own thread.
     */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.BLOCKING;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String connector = request.getConnectionMetaData().getConnector().getName();
        String path = request.getHttpURI().getPath();
        boolean main = MAIN.equals(connector);
        ModelSlot own = main ? null : byConnector.get(connector);
        String model;
        ScoringRoute route;
        if (main && cells != null && path.startsWith(MODELS) && path.endsWith(PREDICT)) {
            model = path.substring(MODELS.length(), path.length() - PREDICT.length());
            route = ScoringRoute.PREDICT;
        } else if (own != null && (path.equals(PREDICT) || path.equals("/"))) {
            model = own.name();
            route = ScoringRoute.PREDICT;
        } else if ((main || own != null) && oip != null && path.startsWith(V2_MODELS) && path.endsWith(INFER)) {
            String[] p = path.substring(V2_MODELS.length(), path.length() - INFER.length()).split("/", -1);
            if (p.length != 1 && !(p.length == 3 && p[1].equals("versions"))) {
                return super.handle(request, response, callback);
            }
            model = p[0];
            route = new Oip.Infer(oip, model, p.length == 3 ? p[2] : null);
        } else {
            return super.handle(request, response, callback);
        }
        if (model.isEmpty() || model.indexOf('/') >= 0) {
            return super.handle(request, response, callback);
        }
        ScoringExchange exchange = new ScoringExchange(request, response, callback, route, memory, main,
                requestId(request));
        if (!request.getMethod().equals("POST")) {
            exchange.refuse(new DeployerException(DeployerException.Kind.METHOD_NOT_ALLOWED,
                    path + " takes POST, not " + request.getMethod()));
            return true;
        }
        if (scoreTokens != null && scoreTokens.required()) {
            RuntimeException refused;
            try {
                refused = scoreTokens.refusal(request.getHeaders().get(HttpHeader.AUTHORIZATION));
            } catch (RuntimeException e) {
                // The tokens live in the database; a failing one is answered through the one error table.
                refused = e;
            }
            if (refused != null) {
                exchange.refuse(refused);
                return true;
            }
        }
        ModelSlot slot;
        if (own != null) {
            if (!own.name().equals(model)) {
                exchange.refuse(DeployerException.notFound("this port serves model " + own.name() + ", not "
                        + model));
                return true;
            }
            slot = own;
        } else {
            slot = cells.slot(model).orElse(null);
            if (slot == null) {
                exchange.refuse(DeployerException.notFound("no model named " + Json.writeString(model)
                        + "; GET /api/models lists them"));
                return true;
            }
        }
        // The model's code runs on this very thread when it is one of the model's own port (CellThreads);
        // a thread of the main port is shared with the API and every model, so there it goes to the cell's worker.
        // The one place a version is chosen: the client's pin, else the model's traffic split.
        deployer.traffic.Traffic split = traffic;
        deployer.cell.VersionChoice choice;
        try {
            choice = split == null ? deployer.cell.VersionChoice.ACTIVE
                    : split.choice(slot, request.getHeaders().get(deployer.traffic.Traffic.VERSION_HEADER));
        } catch (DeployerException e) {
            exchange.refuse(e);
            return true;
        }
        exchange.start(slot, choice, !main && CellThreads.isCurrent(slot.threads()));
        return true;
    }

    /** The client's {@code X-Request-Id}, or 64 random bits: unique enough to find one request in a log. */
    private static String requestId(Request request) {
        String id = request.getHeaders().get("X-Request-Id");
        return id != null && !id.isEmpty() ? id : Long.toHexString(ThreadLocalRandom.current().nextLong());
    }

    /**
     * What one route makes of a request and its answer; the path around it is the same for all. An adapter may
     * throw a {@link DeployerException}: it is answered like any other failure.
     */
    interface ScoringRoute {

        /** The body as the model gets it, as on {@code /predict}; the answer as the model gave it. */
        ScoringRoute PREDICT = new ScoringRoute() {
        };

        /** The request the model scores, from the body the client sent. */
        default CellRequest input(Call call, CellRequest sent) {
            return sent;
        }

        /** What the client gets for the model's answer. */
        default CellResponse output(Call call, CellResponse answer) {
            return answer;
        }
    }
}
