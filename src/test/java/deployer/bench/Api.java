package deployer.bench;

import deployer.core.Json;
import deployer.testing.Multipart;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The management API of a deployer at {@code base}, as the benchmark calls it. */
final class Api {

    static final String TOKEN = "bench-token-0123456789abcdef";

    private final URI base;
    private final HttpClient http;

    Api(URI base) {
        this(base, null);
    }

    /** A client of an https server, trusting {@code tls} (null: the JDK's CAs). */
    Api(URI base, javax.net.ssl.SSLContext tls) {
        this.base = base;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            builder.sslContext(tls);
        }
        this.http = builder.build();
    }

    /** Uploads a package held in memory and waits for READY; fails on anything else. */
    Map<String, Object> deploy(byte[] archive) throws IOException {
        byte[] form = new Multipart().file("package", "package.zip", archive).build();
        return ready(send(HttpRequest.newBuilder(base.resolve("/api/deployments?wait=120"))
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(form)), Duration.ofSeconds(150)));
    }

    /** Uploads a package streamed from {@code archive} and waits up to {@code waitSeconds} for READY. */
    Map<String, Object> deploy(Path archive, int waitSeconds) throws IOException {
        String head = "--" + Multipart.BOUNDARY + "\r\nContent-Disposition: form-data; name=\"package\";"
                + " filename=\"package.zip\"\r\nContent-Type: application/octet-stream\r\n\r\n";
        String tail = "\r\n--" + Multipart.BOUNDARY + "--\r\n";
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.concat(
                HttpRequest.BodyPublishers.ofByteArray(head.getBytes(StandardCharsets.US_ASCII)),
                HttpRequest.BodyPublishers.ofFile(archive),
                HttpRequest.BodyPublishers.ofByteArray(tail.getBytes(StandardCharsets.US_ASCII)));
        return ready(send(HttpRequest.newBuilder(base.resolve("/api/deployments?wait=" + waitSeconds))
                .header("Content-Type", Multipart.contentType()).POST(body), Duration.ofSeconds(waitSeconds + 60L)));
    }

    /** Hot-swaps {@code model} to {@code version} and waits for READY. */
    Map<String, Object> activate(String model, int version) throws IOException {
        return ready(send(HttpRequest.newBuilder(base.resolve("/api/models/" + model + "/versions/" + version
                + "/activate?wait=120")).POST(HttpRequest.BodyPublishers.noBody()), Duration.ofSeconds(150)));
    }

    @SuppressWarnings("unchecked")
    List<Object> list(String path) throws IOException {
        return (List<Object>) parse(get(path));
    }

    String get(String path) throws IOException {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET(), Duration.ofSeconds(30));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> ready(String text) throws IOException {
        Map<String, Object> deployment = (Map<String, Object>) parse(text);
        if (!"READY".equals(deployment.get("state"))) {
            throw new IOException("not READY: " + text);
        }
        return deployment;
    }

    private String send(HttpRequest.Builder request, Duration timeout) throws IOException {
        try {
            HttpResponse<String> response = http.send(request.header("Authorization", "Bearer " + TOKEN)
                    .timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IOException(request.build().uri().getPath() + " answered " + response.statusCode() + ": "
                        + response.body());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    static Object parse(String text) throws IOException {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }
}
