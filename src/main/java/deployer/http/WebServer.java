package deployer.http;

import deployer.Settings;
import deployer.cell.CellManager;
import deployer.cell.ModelSlot;
import deployer.cell.PortBinder;
import deployer.pack.PackageReceiver;
import deployer.store.Store;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.net.URI;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
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
    private static final String MAIN = "main";
    /** Threads are made as needed; the ceiling leaves room for one selector per model port besides the workers. */
    private static final int MAX_THREADS = 1000;

    private final Server server;
    private final ServerConnector main;
    private final ContextHandlerCollection contexts = new ContextHandlerCollection(true);
    private final String cellHost;
    private final Map<String, Binding> bindings = new ConcurrentHashMap<>();

    private record Binding(ServerConnector connector, ServletContextHandler context) {
    }

    public WebServer(Settings settings) {
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 8);
        threads.setName("deployer-http");
        this.server = new Server(threads);
        this.main = new ServerConnector(server);
        main.setName(MAIN);
        main.setHost(settings.host());
        main.setPort(settings.port());
        server.addConnector(main);
        server.setHandler(contexts);
        server.setErrorHandler(new JsonErrorHandler());
        server.setStopTimeout(5_000);
        this.cellHost = settings.cellHost();
    }

    /** Mounts the API (behind the token) and the gateway on the main port. Call once, before {@link #start}. */
    public void mount(Store store, CellManager cells, PackageReceiver receiver, String token, String tokenHint) {
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.setVirtualHosts(List.of("@" + MAIN));
        context.setErrorHandler(new JsonErrorHandler());
        Views views = new Views(cells, cellHost);
        context.addFilter(new FilterHolder(new AuthFilter(token, tokenHint)), "/api/*",
                EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder("api", new ApiServlet(store, cells, receiver, views)), "/api/*");
        context.addServlet(new ServletHolder("gateway", new GatewayServlet(cells)), "/models/*");
        context.addServlet(new ServletHolder("root", new RootServlet()), "/");
        contexts.addHandler(context);
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
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    @Override
    public int bind(ModelSlot slot, int port) throws IOException {
        String name = "cell-" + slot.name();
        // No acceptor thread: the connector's one selector accepts too, so a hundred models cost a hundred
        // threads, not three hundred.
        ServerConnector connector = new ServerConnector(server, 0, 1);
        connector.setName(name);
        connector.setHost(cellHost);
        connector.setPort(port);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.setVirtualHosts(List.of("@" + name));
        context.setErrorHandler(new JsonErrorHandler());
        context.addServlet(new ServletHolder("cell", new CellServlet(slot)), "/");
        try {
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
    public void unbind(ModelSlot slot) {
        Binding binding = bindings.remove(slot.name());
        if (binding != null) {
            stopQuietly(binding.connector(), binding.context());
        }
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

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("stopping Jetty failed: {}", e.getMessage());
        }
    }
}
