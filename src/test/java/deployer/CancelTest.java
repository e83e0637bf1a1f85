package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A STARTING version always has a way out (issue 13, finding 6): its {@code load()} takes an hour, yet each of the
 * three calls gives it up at once — the cancel call, {@code stop} and {@code DELETE} of a model whose only version it
 * is — and a newer upload does not queue behind it. A call that waited for the load would outlast the test client's
 * 90 s timeout, so each answer arriving at all shows the load was interrupted.
 */
class CancelTest extends ServerTest {

    /** A load() that would run for an hour, well inside its own load_timeout_ms. */
    static Map<String, byte[]> hourLongLoad(java.nio.file.Path work, String name) throws Exception {
        String manifest = "{\"name\": \"" + name + "\", \"limits\": {\"load_timeout_ms\": 3600000}}";
        return TestModels.prebuilt(work, manifest, "Glacial", "Thread.sleep(3_600_000L);", "return 1;", "");
    }

    @Test
    void theCancelCallFailsAStartingVersionAtOnceWithTheErrorCancelled() throws Exception {
        Map<String, Object> accepted = startSlow("glacial");

        TestServer.Response cancelled = server.send(post("/api/deployments/" + accepted.get("deploy_id") + "/cancel"));

        assertThat(cancelled.status()).as(cancelled.text()).isEqualTo(200);
        assertThat(cancelled.object()).containsEntry("state", "FAILED").containsEntry("error", "cancelled");
        assertThat(server.get("/api/deployments/" + accepted.get("deploy_id")).object())
                .containsEntry("state", "FAILED");
        assertThat(HotSwapTest.kinds(server, "glacial")).contains("cancelled").doesNotContain("loaded");
        TestServer.Response again = server.send(post("/api/deployments/" + accepted.get("deploy_id") + "/cancel"));
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.error()).contains("FAILED, not STARTING");
        // The name is free at once: the next version starts without waiting for the abandoned load().
        assertThat(server.deploy(Packages.zip(TestModels.echo("glacial")))).containsEntry("state", "READY");
    }

    @Test
    void stopOfAModelWhoseOnlyVersionIsStartingCancelsIt() throws Exception {
        startSlow("stoppable");

        TestServer.Response stopped = server.send(post("/api/models/stoppable/stop"));

        assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);
        assertThat(stopped.object()).containsEntry("state", "FAILED").containsEntry("error", "cancelled");
        assertThat(server.deploy(Packages.zip(TestModels.echo("stoppable")))).containsEntry("state", "READY");
    }

    @Test
    void deleteOfAModelWhoseOnlyVersionIsStartingCancelsItAndRemovesTheModel() throws Exception {
        startSlow("deletable");

        TestServer.Response deleted = server.send(HttpRequest.newBuilder(server.uri("/api/models/deletable"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());

        assertThat(deleted.status()).as(deleted.text()).isEqualTo(204);
        assertThat(server.get("/api/models/deletable").status()).isEqualTo(404);
        assertThat(data.resolve("models/deletable")).doesNotExist();
        try (var removed = Files.list(data.resolve("removed"))) {
            assertThat(removed.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("deletable."));
        }
    }

    @Test
    void aNewerUploadDoesNotQueueBehindALongLoad() throws Exception {
        Map<String, Object> slow = startSlow("impatient");

        Map<String, Object> next = server.deploy(Packages.zip(TestModels.echo("impatient")));

        assertThat(next).containsEntry("state", "READY").containsEntry("version", 2L);
        assertThat(server.get("/api/deployments/" + slow.get("deploy_id")).object())
                .containsEntry("state", "FAILED").containsEntry("error", "cancelled: version 2 was uploaded after it");
    }

    @Test
    void aCleanStopGivesUpTheLoadButKeepsTheVersionStartingForTheNextStart() throws Exception {
        Map<String, Object> slow = startSlow("resumed");

        server.restart();

        Eventually.get(() -> HotSwapTest.kinds(server, "resumed"), kinds -> kinds.contains("restoring"));
        assertThat(HotSwapTest.kinds(server, "resumed")).doesNotContain("failed", "cancelled");
        TestServer.Response cancelled = server.send(post("/api/deployments/" + slow.get("deploy_id") + "/cancel"));
        assertThat(cancelled.status()).as(cancelled.text()).isEqualTo(200);
        assertThat(cancelled.object()).containsEntry("error", "cancelled");
    }

    @Test
    void onlyAStartingVersionCanBeCancelled() {
        Map<String, Object> ready = server.deploy(Packages.zip(TestModels.echo("settled")));

        TestServer.Response refused = server.send(post("/api/deployments/" + ready.get("deploy_id") + "/cancel"));

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.error()).contains("READY, not STARTING");
        assertThat(server.send(post("/api/deployments/999999/cancel")).status()).isEqualTo(404);
        assertThat(server.predict("settled", "1").status()).isEqualTo(200);
    }

    /** Uploads the hour-long load and waits until its load() runs. */
    private Map<String, Object> startSlow(String name) throws Exception {
        TestServer.Response upload = server.upload(Packages.zip(hourLongLoad(work, name)), null);
        assertThat(upload.status()).as(upload.text()).isEqualTo(202);
        Eventually.get(() -> HotSwapTest.kinds(server, name), kinds -> kinds.contains("loading"));
        assertThat(server.get("/api/deployments/" + upload.object().get("deploy_id")).object())
                .containsEntry("state", "STARTING");
        return upload.object();
    }

    private HttpRequest.Builder post(String path) {
        return HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + TestServer.TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody());
    }

    static List<Object> states(TestServer server, String model) {
        return ((List<?>) server.get("/api/models/" + model).object().get("versions")).stream()
                .map(v -> TestServer.asMap(v).get("state")).toList();
    }
}
