package deployer;

import deployer.testing.Multipart;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Calls a {@link ChildServer} over real HTTP, with the test token. */
final class ChildHttp {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    TestServer.Response call(ChildServer server, String method, String path) throws IOException {
        return send(HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + TestServer.TOKEN)
                .method(method, HttpRequest.BodyPublishers.noBody()));
    }

    /** Uploads one archive as the {@code package} part; throws IOException when the server dies meanwhile. */
    TestServer.Response upload(ChildServer server, byte[] archive, String query) throws IOException {
        byte[] body = new Multipart().file("package", "p.zip", archive).build();
        return send(HttpRequest.newBuilder(server.uri("/api/deployments" + (query == null ? "" : "?" + query)))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    TestServer.Response post(URI uri, String json) throws IOException {
        return send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** Every version of a model, newest first, as the API shows them. */
    List<Map<String, Object>> versions(ChildServer server, String model) throws IOException {
        return ((List<?>) call(server, "GET", "/api/models/" + model).object().get("versions")).stream()
                .map(TestServer::asMap).toList();
    }

    /** The events of a model, newest first. */
    List<Map<String, Object>> events(ChildServer server, String model) throws IOException {
        return call(server, "GET", "/api/events?limit=1000&model=" + model).list().stream()
                .map(TestServer::asMap).toList();
    }

    TestServer.Response send(HttpRequest.Builder request) throws IOException {
        try {
            HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(90)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new TestServer.Response(r.statusCode(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The same call for use inside a polling lambda: an unreachable server reads as an empty value. */
    static <T> T orElse(IoCall<T> call, T fallback) {
        try {
            return call.get();
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }

    interface IoCall<T> {
        T get() throws IOException;
    }
}
