package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real server process, killed with SIGKILL or stopped with SIGTERM, comes back with every model as it was. */
class ProcessRestartTest {

    @TempDir
    Path data;

    @TempDir
    Path logs;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void killedServerRestoresReadyModelsOnTheirPortsAndKeepsStoppedOnesStopped() throws Exception {
        Map<String, Object> kept;
        Map<String, Object> paused;
        try (ChildServer server = ChildServer.start(data, logs.resolve("first.log"))) {
            kept = deploy(server, "kept");
            paused = deploy(server, "paused");
            assertThat(call(server, "POST", "/api/models/paused/stop").status()).isEqualTo(200);
            server.kill();
        }

        try (ChildServer again = ChildServer.start(data, logs.resolve("second.log"))) {
            Map<String, Object> back = Eventually.get(() -> call(again, "GET", "/api/deployments/"
                    + kept.get("deploy_id")).object(), d -> "READY".equals(d.get("state")));
            assertThat(back.get("port")).isEqualTo(kept.get("port"));
            assertThat(post(URI.create(kept.get("url") + "/predict"), "{\"x\": 1}").text()).contains("\"echo\"");
            assertThat(call(again, "GET", "/api/deployments/" + paused.get("deploy_id")).object())
                    .containsEntry("state", "STOPPED");
            assertThat((List<?>) call(again, "GET", "/api/models/kept").object().get("versions")).hasSize(1);
            assertThat(call(again, "GET", "/api/models").list()).hasSize(2);
            try (var staging = Files.list(data.resolve("staging"))) {
                assertThat(staging).isEmpty();
            }
            assertThat(again.terminate()).isIn(0, 143);
        }
        assertThat(Files.readString(logs.resolve("second.log"))).contains("deployer stopped");

        try (ChildServer third = ChildServer.start(data, logs.resolve("third.log"))) {
            Eventually.get(() -> call(third, "GET", "/api/deployments/" + kept.get("deploy_id")).object(),
                    d -> "READY".equals(d.get("state")));
        }
    }

    @Test
    void secondServerOnTheSameDataFolderRefusesToStartAndNamesTheLock() throws Exception {
        try (ChildServer first = ChildServer.start(data, logs.resolve("first.log"))) {
            Path log = logs.resolve("second.log");
            Process second = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "deployer.Main", "serve", "--port", "0",
                    "--data", data.toString(), "--token", TestServer.TOKEN).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();

            assertThat(second.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).isEqualTo(1);
            assertThat(Files.readString(log)).contains("another deployer is already running").contains("deployer.lock");
            assertThat(call(first, "GET", "/api/models").status()).isEqualTo(200);
        }
    }

    private Map<String, Object> deploy(ChildServer server, String name) throws Exception {
        byte[] body = new Multipart().file("package", "p.zip", Packages.zip(TestModels.echo(name))).build();
        TestServer.Response r = send(HttpRequest.newBuilder(server.uri("/api/deployments?wait=60"))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.object()).containsEntry("state", "READY");
        return r.object();
    }

    private TestServer.Response call(ChildServer server, String method, String path) {
        return send(HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + TestServer.TOKEN)
                .method(method, HttpRequest.BodyPublishers.noBody()));
    }

    private TestServer.Response post(URI uri, String json) {
        return send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private TestServer.Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(90)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new TestServer.Response(r.statusCode(), r.body());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
