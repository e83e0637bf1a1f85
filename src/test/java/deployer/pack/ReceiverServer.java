package deployer.pack;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.DeployerException;
import deployer.testing.Multipart;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real Jetty on a free port whose one servlet, {@code POST /upload}, calls {@link PackageReceiver#receive}. It
 * answers 200 with what was staged (then closes the package), or the failure's status and message.
 */
final class ReceiverServer implements AutoCloseable {

    private final Path staging;
    private final Server server;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Every answer, "status message", in order: lets a test wait for a request whose client has left. */
    private final BlockingQueue<String> outcomes = new LinkedBlockingQueue<>();

    ReceiverServer(Path staging, PackLimits limits) throws Exception {
        this.staging = staging;
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.addServlet(new ServletHolder(new UploadServlet(new PackageReceiver(staging, limits))), "/upload");
        server.setHandler(context);
        server.start();
        port = connector.getLocalPort();
    }

    int port() {
        return port;
    }

    HttpResponse<String> post(Multipart upload) throws Exception {
        return send(BodyPublishers.ofByteArray(upload.build()), Multipart.contentType());
    }

    HttpResponse<String> send(BodyPublisher body, String contentType) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + port + "/upload");
        HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", contentType).POST(body).build();
        return http.send(request, BodyHandlers.ofString(UTF_8));
    }

    /** The next answer the servlet gave, waiting up to {@code seconds}; null when none came. */
    String nextOutcome(int seconds) throws InterruptedException {
        return outcomes.poll(seconds, TimeUnit.SECONDS);
    }

    void assertStagingEmpty() throws IOException {
        if (Files.exists(staging)) {
            try (Stream<Path> left = Files.list(staging)) {
                assertThat(left).as("left in staging").isEmpty();
            }
        }
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private final class UploadServlet extends HttpServlet {

        private final transient PackageReceiver receiver;

        UploadServlet(PackageReceiver receiver) {
            this.receiver = receiver;
        }

        @Override
        protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
            int status;
            String answer;
            try (StagedPackage staged = receiver.receive(request)) {
                status = 200;
                answer = describe(staged);
            } catch (DeployerException e) {
                // As the API does: the client, maybe still sending, then reads the answer.
                PackageReceiver.drain(request);
                status = e.kind().status();
                answer = e.getMessage();
            } catch (RuntimeException e) {
                status = 500;
                answer = e.toString();
            }
            outcomes.add(status + " " + answer);
            response.setStatus(status);
            response.setContentType("text/plain;charset=utf-8");
            response.getWriter().write(answer);
        }

        /** name=, sha256=, size= lines, then the staged files' paths, sorted. */
        private String describe(StagedPackage staged) {
            try (Stream<Path> files = Files.walk(staged.directory())) {
                List<String> paths = files.filter(Files::isRegularFile)
                        .map(file -> staged.directory().relativize(file).toString())
                        .sorted()
                        .toList();
                return "name=" + staged.manifest().name() + "\nsha256=" + staged.sha256() + "\nsize=" + staged.size()
                        + "\n" + String.join("\n", paths) + "\n";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
