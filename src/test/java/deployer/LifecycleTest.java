package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Gates;
import deployer.testing.Packages;
import deployer.testing.TestDatabase;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Stop, start, restart, activate and delete, on demand, each recorded, each refused when it makes no sense. */
@ParameterizedClass
@EnumSource(TestDatabase.class)
class LifecycleTest extends ServerTest {

    @Parameter
    TestDatabase db;

    @Override
    TestDatabase database() {
        return db;
    }

    @Test
    void stopClosesThePortAndStartBringsItBackOnTheSamePort() throws Exception {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("pausable")));

        TestServer.Response stopped = control("pausable", "stop");
        assertThat(stopped.status()).isEqualTo(200);
        assertThat(stopped.object()).containsEntry("state", "STOPPED").containsEntry("url", null)
                .containsEntry("healthy", false);
        assertThat(server.predict("pausable", "1").status()).isEqualTo(503);
        assertThat(refusesConnections(URI.create(d.get("url") + "/health"))).isTrue();

        TestServer.Response started = control("pausable", "start");
        assertThat(started.status()).isEqualTo(200);
        assertThat(started.object()).containsEntry("state", "READY").containsEntry("port", d.get("port"))
                .containsEntry("healthy", true);
        assertThat(server.post(URI.create(d.get("url") + "/predict"), "2").object()).containsEntry("echo", 2L);
        assertThat(HotSwapTest.kinds(server, "pausable")).contains("stopped", "starting", "ready");
    }

    @Test
    void whatMakesNoSenseIsRefusedWith409() {
        server.deploy(Packages.zip(TestModels.echo("sensible")));

        TestServer.Response startReady = control("sensible", "start");
        assertThat(startReady.status()).isEqualTo(409);
        assertThat(startReady.error()).contains("already READY");
        assertThat(server.send(post("/api/models/sensible/versions/1/activate")).error()).contains("already active");

        control("sensible", "stop");
        TestServer.Response stopStopped = control("sensible", "stop");
        assertThat(stopStopped.status()).isEqualTo(409);
        assertThat(stopStopped.error()).contains("STOPPED").contains("nothing to stop");
    }

    @Test
    void startingAModelThatIsStartingIs409() throws Exception {
        Path gate = work.resolve("gate");
        String manifest = "{\"name\": \"sluggish\", \"properties\": {\"gate\": \"" + gate + "\"}}";
        server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Quick", "", "return 1;", "")));
        Map<String, byte[]> slow = TestModels.prebuilt(work, manifest, "Sluggish", Gates.awaitSource("gate"),
                "return 2;", "");
        TestServer.Response upload = server.upload(Packages.zip(slow), null);
        assertThat(upload.status()).isEqualTo(202);

        TestServer.Response restart = control("sluggish", "restart");
        assertThat(restart.status()).isEqualTo(409);
        assertThat(restart.error()).contains("busy").contains("starting version 2");

        Gates.open(gate);
        Map<String, Object> v2 = Eventually.get(() -> server.get("/api/deployments/"
                + upload.object().get("deploy_id")).object(), o -> !"STARTING".equals(o.get("state")));
        assertThat(v2).containsEntry("state", "READY");
    }

    @Test
    void activateRollsBackToAnOlderVersionAndForwardAgain() {
        server.deploy(Packages.zip(TestModels.echo("rolling")));
        server.deploy(Packages.zip(TestModels.echo("rolling")));

        TestServer.Response back = server.send(post("/api/models/rolling/versions/1/activate"));

        assertThat(back.status()).isEqualTo(200);
        assertThat(back.object()).containsEntry("version", 1L).containsEntry("state", "READY");
        assertThat(server.predict("rolling", "0").object()).containsEntry("version", 1L);
        Map<String, Object> model = server.get("/api/models/rolling").object();
        assertThat(TestServer.asMap(model.get("active"))).containsEntry("version", 1L);
        assertThat((List<?>) model.get("versions")).extracting(v -> (Object) TestServer.asMap(v).get("state"))
                .containsExactly((Object) "RETIRED", "READY");

        assertThat(server.send(post("/api/models/rolling/versions/2/activate")).object())
                .containsEntry("state", "READY");
        assertThat(server.predict("rolling", "0").object()).containsEntry("version", 2L);
        assertThat(server.send(post("/api/models/rolling/versions/9/activate")).status()).isEqualTo(404);
    }

    @Test
    void restartSwapsInAFreshCellOfTheSameVersion() {
        server.deploy(Packages.zip(TestModels.echo("refresh")));

        TestServer.Response r = control("refresh", "restart");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.object()).containsEntry("state", "READY").containsEntry("version", 1L)
                .containsEntry("restarts", 1L);
        assertThat(server.predict("refresh", "3").object()).containsEntry("echo", 3L);
        // The old cell is drained and closed after the answer, in the background; its event comes when that is done.
        assertThat(Eventually.get(() -> HotSwapTest.kinds(server, "refresh"), kinds -> kinds.contains("replaced")))
                .contains("restarting", "replaced");
    }

    @Test
    void deleteRemovesTheModelAndKeepsItsFilesUnlessPurged() throws Exception {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("doomed")));
        server.deploy(Packages.zip(TestModels.echo("purged")));

        TestServer.Response deleted = server.send(HttpRequest.newBuilder(server.uri("/api/models/doomed"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
        TestServer.Response purged = server.send(HttpRequest.newBuilder(server.uri("/api/models/purged?purge=true"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());

        assertThat(deleted.status()).isEqualTo(204);
        assertThat(purged.status()).isEqualTo(204);
        assertThat(server.get("/api/models/doomed").status()).isEqualTo(404);
        assertThat(server.get("/api/models").list()).isEmpty();
        assertThat(server.predict("doomed", "1").status()).isEqualTo(404);
        assertThat(refusesConnections(URI.create(d.get("url") + "/health"))).isTrue();
        assertThat(data.resolve("models/doomed")).doesNotExist();
        assertThat(data.resolve("models/purged")).doesNotExist();
        try (var removed = Files.list(data.resolve("removed"))) {
            assertThat(removed.map(p -> p.getFileName().toString())).singleElement().asString()
                    .startsWith("doomed.");
        }
        assertThat(HotSwapTest.kinds(server, "doomed")).first().isEqualTo("deleted");
        assertThat(server.deploy(Packages.zip(TestModels.echo("doomed")))).containsEntry("version", 1L);
    }

    @Test
    void controllingAnUnknownModelIs404() {
        assertThat(control("ghost", "stop").status()).isEqualTo(404);
        assertThat(control("ghost", "explode").status()).isEqualTo(404);
    }

    private TestServer.Response control(String model, String action) {
        return server.send(post("/api/models/" + model + "/" + action));
    }

    private HttpRequest.Builder post(String path) {
        return HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + TestServer.TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody());
    }

    static boolean refusesConnections(URI uri) throws InterruptedException {
        try {
            HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (java.io.IOException e) {
            return e.getCause() instanceof ConnectException;
        }
    }
}
