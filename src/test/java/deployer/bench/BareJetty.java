package deployer.bench;

import deployer.core.Json;
import deployer.cell.CellRequest;
import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Reply;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The limit row 1 is measured against: a bare Jetty 12 servlet, in the same JVM, that calls the same model class's
 * four stages on the Jetty thread and writes the reply with Jackson — no permit, no hand-off, no deadline, no
 * metrics, no access log.
 */
final class BareJetty implements AutoCloseable {

    private final Server server;
    private final ServerConnector connector;
    private final URLClassLoader loader;
    private final Model model;

    /** Loads the model from {@code modelJar} (found through its service file) and serves it on a free port. */
    BareJetty(Path modelJar, Path directory) throws Exception {
        this.loader = new URLClassLoader(new URL[] {modelJar.toUri().toURL()}, BareJetty.class.getClassLoader());
        this.model = ServiceLoader.load(Model.class, loader).findFirst().orElseThrow();
        model.load(new Context(directory));
        this.server = new Server(new QueuedThreadPool(200, 8));
        this.connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.addServlet(new ServletHolder(new Direct(model)), "/predict");
        server.setHandler(context);
        server.start();
    }

    int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
        model.close();
        loader.close();
    }

    private static final class Direct extends HttpServlet {
        private final transient Model model;

        Direct(Model model) {
            this.model = model;
        }

        @Override
        protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
            byte[] body;
            try (InputStream in = request.getInputStream()) {
                body = in.readAllBytes();
            }
            try {
                Reply reply = model.reply(model.score(model.prepare(new CellRequest(request.getContentType(), body,
                        Map.of()))));
                byte[] bytes = reply.isJson() ? Json.write(reply.value()) : reply.body();
                response.setStatus(reply.status());
                response.setContentType(reply.contentType());
                response.setContentLength(bytes.length);
                response.getOutputStream().write(bytes);
            } catch (Exception e) {
                response.sendError(500, e.toString());
            }
        }
    }

    private record Context(Path directory) implements ModelContext {
        @Override
        public String name() {
            return "bare";
        }

        @Override
        public int version() {
            return 1;
        }

        @Override
        public Map<String, String> properties() {
            return Map.of();
        }

        @Override
        public System.Logger logger() {
            return System.getLogger("bare");
        }
    }

    /** Writes {@code jar} to a file in {@code work}. */
    static Path writeJar(Path work, byte[] jar) throws IOException {
        Path file = work.resolve("trivial-model.jar");
        Files.write(file, jar);
        return file;
    }
}
