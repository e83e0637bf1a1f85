package deployer.http;

import deployer.core.Hosts;
import deployer.core.Settings;
import deployer.cell.CellManager;
import deployer.cell.ModelSlot;
import deployer.cell.PortBinder;
import deployer.metrics.Metrics;
import deployer.pack.PackageReceiver;
import deployer.store.Store;
import deployer.store.Tokens;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.net.URI;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Jetty server: the main connector with the API and the gateway, plus one named connector per model, each
 * with a servlet context of its own bound to it by virtual host {@code @connector}. Cell ports come and go while
 * the server runs.
 */
public final class WebServer implements PortBinder, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WebServer.class);
    private static final String MAIN = ScoringHandler.MAIN;
    /** Threads are made as needed; the ceiling leaves room for one selector per model port besides the workers. */
    private static final int MAX_THREADS = 1000;

    private final Server server;
    private final ServerConnector main;
    private final ContextHandlerCollection contexts = new ContextHandlerCollection(true);
    private final String cellHost;
    private final Map<String, Binding> bindings = new ConcurrentHashMap<>();
    private ServletContextHandler mainContext;
    private volatile Oip oip;
    private final ScoringMemory scoringMemory;
    private ScoringHandler scoring;
    private final GracefulHandler graceful;
    /** TLS on every port, or null for plain HTTP. */
    private final Tls tls;
    private volatile ScoreTokens scoreTokens;
    private volatile Metrics cellMetrics;

    private record Binding(ServerConnector connector, ServletContextHandler context) {
    }

    public WebServer(Settings settings) {
        this(settings, null);
    }

    /** @param tls TLS for the main port and every cell port, or null for plain HTTP */
    public WebServer(Settings settings, Tls tls) {
        this.tls = tls;
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 8);
        threads.setName("deployer-http");
        this.server = new Server(threads);
        this.main = connector(MAIN, null, -1, -1);
        main.setHost(settings.host());
        main.setPort(settings.port());
        server.addConnector(main);
        this.scoringMemory = new ScoringMemory(settings.scoringMemoryBytes());
        // Counts the requests in flight, so a graceful stop (stopGracefully) waits for them to be answered.
        this.graceful = new GracefulHandler(contexts);
        server.setHandler(graceful);
        server.setErrorHandler(new JsonErrorHandler());
        server.setStopTimeout(5_000);
        this.cellHost = settings.cellHost();
    }

    /**
     * A cell alone ({@code deployer cell}): its own port also answers {@code /metrics}, since nothing else of the
     * server is reachable from outside. Call before the first {@link #bind}.
     */
    public void metricsOnCellPorts(Metrics metrics) {
        this.cellMetrics = metrics;
    }

    /** Traffic between versions (DESIGN 1.11) on every scoring path and under the API; call before {@link #mount}. */
    public void traffic(deployer.traffic.Traffic split) {
        this.traffic = split;
    }

    private deployer.traffic.Traffic traffic;

    /** Puts the score-token check in front of every scoring path; call before {@link #mount}. */
    public void guardScoring(ScoreTokens check) {
        this.scoreTokens = check;
    }

    /**
     * Mounts the API (behind the token or the admin page's session), the gateway and the admin page on the main
     * port. Call once, before {@link #start}.
     */
    public void mount(Store store, CellManager cells, PackageReceiver receiver, Tokens tokens, String tokenHint) {
        // Scoring, on every port, goes through one handler in front of the servlets.
        this.scoring = new ScoringHandler(cells, scoringMemory, scoreTokens);
        scoring.traffic(traffic);
        scoring.setHandler(contexts);
        graceful.setHandler(scoring);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.setVirtualHosts(List.of("@" + MAIN));
        context.setErrorHandler(new JsonErrorHandler());
        Views views = new Views(cells, cellHost, scheme());
        // The admin page's logins: in memory, so a restart logs everyone out.
        SessionStore sessions = new SessionStore(SessionStore.DEFAULT_LIFETIME, InstantSource.system());
        context.addFilter(new FilterHolder(new AuthFilter(tokens, tokenHint, sessions, store)), "/api/*",
                EnumSet.of(DispatcherType.REQUEST));
        // the Open Inference Protocol's repository extension starts and stops models: behind the token too
        context.addFilter(new FilterHolder(new AuthFilter(tokens, tokenHint, sessions, store)), "/v2/repository/*",
                EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder("session", new SessionServlet(sessions, tokens::isAdmin, tokenHint)),
                SessionServlet.PATH);
        context.addServlet(new ServletHolder("tokens", new TokensServlet(tokens)), "/api/tokens/*");
        context.addServlet(new ServletHolder("api", new ApiServlet(store, cells, receiver, views,
                traffic == null ? null : new TrafficCalls(traffic))), "/api/*");
        // Health of a model through the main port; its scoring is answered before the servlets (ScoringHandler).
        ServletHolder gateway = new ServletHolder("gateway", new GatewayServlet(cells));
        gateway.setAsyncSupported(true);
        context.addServlet(gateway, "/models/*");
        FilterHolder sandbox = new FilterHolder(new SandboxFilter());
        sandbox.setAsyncSupported(true);
        context.addFilter(sandbox, "/models/*", EnumSet.of(DispatcherType.REQUEST));
        addScoreFilter(context, "/models/*");
        context.addServlet(new ServletHolder("root", new RootServlet(new AdminAssets())), "/");
        contexts.addHandler(context);
        this.mainContext = context;
    }

    /**
     * Mounts the Open Inference Protocol under {@code /v2} on the main port (its repository extension is behind the
     * token: {@link #mount}), hands it to the scoring handler for {@code /v2 ... /infer}, and to every cell port
     * bound from now on. Call after {@link #mount}, before {@link #start}.
     */
    public void mountOip(Store store, CellManager cells) {
        this.oip = new Oip(cells, store);
        if (scoring != null) {
            scoring.oip(oip);
        }
        mainContext().addServlet(new ServletHolder("oip", new OipServlet(oip)), "/v2/*");
        // /v2 answers on the main port are model-adjacent too: sandboxed like /models/**.
        mainContext().addFilter(new FilterHolder(new SandboxFilter()), "/v2/*", EnumSet.of(DispatcherType.REQUEST));
        addScoreFilter(mainContext(), "/v2/*");
    }

    /**
     * Mounts {@code /metrics} (Prometheus text, open like a health check), {@code /api/stats} (behind the token,
     * as all of {@code /api}), and upload counting. Call after {@link #mount}, before {@link #start}.
     */
    public void mountMetrics(Metrics metrics, Store store, CellManager cells) {
        mainContext().addServlet(new ServletHolder("metrics", new MetricsServlet(metrics)), "/metrics");
        mainContext().addServlet(new ServletHolder("stats", new StatsServlet(metrics.stats(), store, cells)),
                "/api/stats");
        mainContext().addFilter(new FilterHolder(new UploadMetricsFilter(metrics)), "/api/deployments",
                EnumSet.of(DispatcherType.REQUEST));
    }

    private ServletContextHandler mainContext() {
        if (mainContext == null) {
            throw new IllegalStateException("mount() first");
        }
        return mainContext;
    }

    public void start() throws Exception {
        server.start();
    }

    /** The port the main connector bound (the real one when asked for port 0). */
    public int port() {
        return main.getLocalPort();
    }

    public URI uri() {
        String host = main.getHost() == null || main.getHost().equals("0.0.0.0") ? "127.0.0.1" : main.getHost();
        return URI.create(scheme() + "://" + Hosts.forUri(host) + ":" + port());
    }

    /** {@code https} when every port serves TLS, else {@code http}. */
    public String scheme() {
        return tls == null ? "http" : "https";
    }

    /** With TLS, a client context that trusts this server's own certificate: what the health pings use. */
    @Override
    public Optional<SSLContext> pingTls() {
        return tls == null ? Optional.empty() : Optional.of(tls.pinnedClientContext());
    }

    /** The connection factories of every port this server opens: TLS then HTTP/1.1, or plain HTTP/1.1. */
    private ConnectionFactory[] connectionFactories() {
        HttpConfiguration http = new HttpConfiguration();
        return tls == null ? new ConnectionFactory[] {new HttpConnectionFactory(http)}
                : tls.connectionFactories(http);
    }

    /** Scoring paths ask for a score token when {@code --require-score-token} says so. */
    private void addScoreFilter(ServletContextHandler context, String path) {
        if (scoreTokens != null && scoreTokens.required()) {
            FilterHolder filter = new FilterHolder(scoreTokens.filter());
            filter.setAsyncSupported(true);
            context.addFilter(filter, path, EnumSet.of(DispatcherType.REQUEST));
        }
    }

    // bind and unbind are synchronized: Jetty's addConnector and addHandler copy the list, add and set it back, so
    // two models starting at once (every READY model is restored at once after a restart) could lose one's context,
    // and its port would answer 404 to everything.
    @Override
    public synchronized int bind(ModelSlot slot, int port) throws IOException {
        String name = "cell-" + slot.name();
        // No acceptor thread: the connector's one selector accepts too, so a hundred models cost a hundred
        // threads, not three hundred. The model's own threads: what its code leaves on them goes with its cell.
        ServerConnector connector = connector(name, slot.threads(), 0, 1);
        connector.setHost(cellHost);
        connector.setPort(port);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.setVirtualHosts(List.of("@" + name));
        context.setErrorHandler(new JsonErrorHandler());
        ServletHolder cell = new ServletHolder("cell", new CellServlet(slot, oip));
        cell.setAsyncSupported(true);
        context.addServlet(cell, "/");
        if (cellMetrics != null) {
            context.addServlet(new ServletHolder("metrics", new MetricsServlet(cellMetrics)), "/metrics");
        }
        addScoreFilter(context, "/*");
        try {
            if (scoring != null) {
                scoring.serve(name, slot);
            }
            server.addConnector(connector);
            connector.start();
            contexts.addHandler(context);
            if (!context.isStarted()) {
                context.start();
            }
        } catch (Exception e) {
            stopQuietly(connector, context);
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getMessage(), e);
        }
        bindings.put(slot.name(), new Binding(connector, context));
        return connector.getLocalPort();
    }

    @Override
    public synchronized void unbind(ModelSlot slot) {
        Binding binding = bindings.remove(slot.name());
        if (binding != null) {
            stopQuietly(binding.connector(), binding.context());
        }
        if (scoring != null) {
            scoring.forget("cell-" + slot.name());
        }
    }

    /**
     * Every connector is made here (the one place to change them, for TLS say). {@code executor} null: the server's
     * pool; {@code acceptors}/{@code selectors} -1: Jetty's defaults.
     */
    private ServerConnector connector(String name, Executor executor, int acceptors, int selectors) {
        ServerConnector connector = new ServerConnector(server, executor, null, null, acceptors, selectors,
                connectionFactories());
        connector.setName(name);
        return connector;
    }

    private void stopQuietly(ServerConnector connector, ServletContextHandler context) {
        try {
            connector.stop();
        } catch (Exception e) {
            log.warn("stopping {} failed: {}", connector.getName(), e.getMessage());
        }
        server.removeConnector(connector);
        contexts.removeHandler(context);
        try {
            context.stop();
        } catch (Exception e) {
            log.warn("stopping the context of {} failed: {}", connector.getName(), e.getMessage());
        }
    }

    /**
     * A clean stop: every port stops accepting, requests arriving on open connections get 503, and those in flight
     * are waited for up to {@code timeoutMs} (their own deadline) before Jetty stops.
     */
    public void stopGracefully(long timeoutMs) {
        server.setStopTimeout(Math.max(1, timeoutMs));
        close();
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("stopping Jetty failed: {}", e.getMessage());
        }
    }
}
