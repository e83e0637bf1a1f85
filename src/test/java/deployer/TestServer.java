package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Leftovers;
import deployer.testing.Multipart;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import deployer.core.Json;
import deployer.core.Settings;

/**
 * A real deployer for a test: Jetty on port 0, cells on free ports, H2 in a temp folder, and an HTTP client that
 * speaks to it. Closing it stops the server; {@link #restart()} starts a new one on the same data folder.
 */
final class TestServer implements AutoCloseable {

    static final String TOKEN = "test-token-0123456789abcdef";

    final Path data;
    private final Settings settings;
    private final HttpClient http;
    private Deployer deployer;
    private volatile java.net.http.HttpHeaders lastHeaders;

    private final Deployer.StartOptions options;

    private TestServer(Settings settings, Deployer.StartOptions options, HttpClient http) throws Exception {
        this.settings = settings;
        this.options = options;
        this.http = http;
        this.data = settings.data();
        this.deployer = Deployer.start(settings, options);
    }

    /** A server started with {@link Deployer.StartOptions} (a fault-injecting database, {@code --rebuild-db}). */
    static TestServer start(Path data, Deployer.StartOptions options) throws Exception {
        return new TestServer(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any())
                .withToken(TOKEN), options, defaultClient());
    }

    /** A server whose records are in {@code database} (the embedded H2 in {@code data}, or a fresh PostgreSQL one). */
    static TestServer start(Path data, deployer.testing.TestDatabase database) throws Exception {
        return start(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any()).withToken(TOKEN)
                .withDb(database.fresh()));
    }

    static TestServer start(Path data) throws Exception {
        return start(defaults(data));
    }

    /** The settings every test server starts from: port 0, cells on free ports, the test token. */
    static Settings defaults(Path data) {
        return Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any()).withToken(TOKEN);
    }

    static TestServer start(Settings settings) throws Exception {
        return new TestServer(settings, Deployer.StartOptions.DEFAULT, defaultClient());
    }

    /** A server whose calls go through {@code http} (one that trusts a test certificate, say). */
    static TestServer start(Settings settings, HttpClient http) throws Exception {
        return new TestServer(settings, Deployer.StartOptions.DEFAULT, http);
    }

    private static HttpClient defaultClient() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The running deployer. */
    Deployer deployer() {
        return deployer;
    }

    TestServer restart() throws Exception {
        deployer.close();
        deployer = Deployer.start(settings, options);
        return this;
    }

    URI uri(String path) {
        return deployer.uri().resolve(path);
    }

    int port() {
        return deployer.port();
    }

    /** Uploads one archive as the {@code package} part. */
    Response upload(byte[] archive, String query) {
        return upload(new Multipart().file("package", "package.bin", archive), query);
    }

    Response upload(Multipart form, String query) {
        return send(HttpRequest.newBuilder(uri("/api/deployments" + (query == null ? "" : "?" + query)))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(form.build())));
    }

    /** Uploads and waits for the outcome: the final deployment object. */
    Map<String, Object> deploy(byte[] archive) {
        Response r = upload(archive, "wait=60");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.object();
    }

    Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + TOKEN).GET());
    }

    Response post(URI uri, String json) {
        return send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    Response predict(String model, String json) {
        return post(uri("/models/" + model + "/predict"), json);
    }

    Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(90)).build(),
                    HttpResponse.BodyHandlers.ofString());
            lastHeaders = response.headers();
            return new Response(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Uploads {@code archive} as the {@code package} part and asserts it is refused, leaving nothing behind. */
    Response assertRefused(byte[] archive, int status, String messagePart) {
        return assertRefused(new Multipart().file("package", "package.bin", archive), status, messagePart);
    }

    /** Uploads {@code form} and asserts the status, that the error names {@code messagePart}, and nothing is left. */
    Response assertRefused(Multipart form, int status, String messagePart) {
        Response r = upload(form, "wait=5");
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        assertThat(r.error()).contains(messagePart);
        assertNothingLeft();
        return r;
    }

    /** No model in the API, and no file in staging, under models/ or outside the data folder. */
    void assertNothingLeft() {
        Response models = get("/api/models");
        assertThat(models.status()).as(models.text()).isEqualTo(200);
        assertThat(models.list()).as("models the API lists").isEmpty();
        Leftovers.assertNothingLeft(data);
    }

    /** The headers of the last answer this client got. */
    java.net.http.HttpHeaders lastHeaders() {
        return lastHeaders;
    }

    /** The files left in the staging folder: none once every upload has finished, whatever its outcome. */
    List<Path> staging() throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("staging"))) {
            return files.toList();
        }
    }

    @Override
    public void close() {
        deployer.close();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object o) {
        return (Map<String, Object>) o;
    }

    record Response(int status, String text) {

        @SuppressWarnings("unchecked")
        Map<String, Object> object() {
            return (Map<String, Object>) parse();
        }

        @SuppressWarnings("unchecked")
        List<Object> list() {
            return (List<Object>) parse();
        }

        String error() {
            return (String) object().get("error");
        }

        private Object parse() {
            try {
                return Json.parse(text.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + text, e);
            }
        }
    }
}
