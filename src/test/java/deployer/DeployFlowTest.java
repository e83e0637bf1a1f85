package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import deployer.testing.TestDatabase;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The core path: upload a package in each form, see it READY, score it on its port and through the gateway. */
@ParameterizedClass
@EnumSource(TestDatabase.class)
class DeployFlowTest extends ServerTest {

    @Parameter
    TestDatabase db;

    @Override
    TestDatabase database() {
        return db;
    }

    @Test
    void zipPackageBecomesReadyAndScoresOnItsPortAndThroughTheGateway() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("hello")));

        assertThat(d).containsEntry("state", "READY").containsEntry("model", "hello").containsEntry("version", 1L);
        assertThat(d.get("error")).isNull();
        assertThat((Long) d.get("port")).isPositive();
        assertThat(d.get("url")).isEqualTo("http://127.0.0.1:" + d.get("port"));
        assertThat((String) d.get("sha256")).hasSize(64);

        TestServer.Response direct = server.post(URI.create(d.get("url") + "/predict"), "{\"x\": [1, 2.5]}");
        assertThat(direct.status()).isEqualTo(200);
        assertThat(direct.object()).containsEntry("echo", Map.of("x", List.of(1L, 2.5))).containsEntry("version", 1L);

        TestServer.Response gateway = server.predict("hello", "{\"x\": 3}");
        assertThat(gateway.status()).isEqualTo(200);
        assertThat(gateway.object()).containsEntry("echo", Map.of("x", 3L));
    }

    @Test
    void tarGzPackageBecomesReady() {
        Map<String, Object> d = server.deploy(Packages.tarGz(TestModels.echo("tarred")));

        assertThat(d).containsEntry("state", "READY");
        assertThat(server.predict("tarred", "\"hi\"").object()).containsEntry("echo", "hi");
    }

    @Test
    void manifestAndFilePartsBecomeReady() {
        Map<String, byte[]> files = TestModels.echo("parts");
        Multipart form = new Multipart().field("manifest", files.get("deploy.json"))
                .file("file", "serving/Echo.java", files.get("serving/Echo.java"));

        TestServer.Response r = server.upload(form, "wait=60");

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.object()).containsEntry("state", "READY");
        assertThat(server.predict("parts", "[1]").object()).containsEntry("echo", List.of(1L));
    }

    @Test
    void uploadAnswers202AtOnceAndTheStatusUrlShowsTheOutcome() throws Exception {
        TestServer.Response r = server.upload(Packages.zip(TestModels.echo("later")), null);

        assertThat(r.status()).as(r.text()).isEqualTo(202);
        Map<String, Object> accepted = r.object();
        assertThat(accepted).containsEntry("model", "later").containsEntry("version", 1L)
                .containsEntry("state", "STARTING").containsKeys("deploy_id", "status_url");
        String statusUrl = (String) accepted.get("status_url");
        assertThat(statusUrl).endsWith("/api/deployments/" + accepted.get("deploy_id"));

        Map<String, Object> d = Eventually.get(() -> server.get(URI.create(statusUrl).getPath()).object(),
                o -> !"STARTING".equals(o.get("state")));
        assertThat(d).containsEntry("state", "READY");
    }

    @Test
    void packageFilesLandInAFolderNamedByTheDeployId() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("stored")));

        Path folder = data.resolve("models").resolve("stored").resolve(String.valueOf(d.get("deploy_id")));
        assertThat(folder.resolve("deploy.json")).exists();
        assertThat(folder.resolve("serving/Echo.java")).exists();
        assertThat(data.resolve("staging")).isEmptyDirectory();
    }

    @Test
    void secondUploadIsVersionTwoAndKeepsThePort() {
        Map<String, Object> first = server.deploy(Packages.zip(TestModels.echo("twice")));
        Map<String, Object> second = server.deploy(Packages.zip(TestModels.echo("twice")));

        assertThat(second).containsEntry("version", 2L).containsEntry("state", "READY")
                .containsEntry("port", first.get("port"));
        assertThat(server.predict("twice", "1").object()).containsEntry("version", 2L);
        Map<String, Object> model = server.get("/api/models/twice").object();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> versions = (List<Map<String, Object>>) model.get("versions");
        assertThat(versions).extracting(v -> v.get("version")).containsExactly(2L, 1L);
        assertThat(versions).extracting(v -> v.get("state")).containsExactly("READY", "RETIRED");
        @SuppressWarnings("unchecked")
        Map<String, Object> active = (Map<String, Object>) model.get("active");
        assertThat(active).containsEntry("version", 2L);
    }

    @Test
    void modelsListShowsTheActiveVersionOfEach() {
        server.deploy(Packages.zip(TestModels.echo("alpha")));
        server.deploy(Packages.zip(TestModels.echo("beta")));

        List<Object> models = server.get("/api/models").list();

        assertThat(models).hasSize(2);
        @SuppressWarnings("unchecked")
        Map<String, Object> alpha = (Map<String, Object>) models.get(0);
        assertThat(alpha).containsEntry("name", "alpha").containsEntry("version", 1L).containsEntry("state", "READY")
                .containsKeys("port", "url", "deploy_id");
    }

    @Test
    void eventsTellEveryStepNewestFirst() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("logged")));

        List<Object> events = server.get("/api/events?model=logged").list();

        assertThat(events).extracting(e -> (Object) String.valueOf(((Map<?, ?>) e).get("kind")))
                .containsSubsequence((Object) "ready", "ping", "loaded", "loading", "compiled", "compiling", "stored",
                        "received");
        assertThat(events).allSatisfy(e -> assertThat(TestServer.asMap(e))
                .containsEntry("deploy_id", d.get("deploy_id")).containsKey("time"));
        assertThat(server.get("/api/events?limit=2").list()).hasSize(2);
    }

    @Test
    void healthAnswersUpWithModelAndVersionOnBothPorts() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("healthy")));

        TestServer.Response direct = server.send(java.net.http.HttpRequest.newBuilder(
                URI.create(d.get("url") + "/health")).GET());
        TestServer.Response gateway = server.send(java.net.http.HttpRequest.newBuilder(
                server.uri("/models/healthy/health")).GET());

        assertThat(direct.status()).isEqualTo(200);
        assertThat(direct.object()).containsEntry("status", "UP").containsEntry("model", "healthy")
                .containsEntry("version", 1L);
        assertThat(gateway.object()).isEqualTo(direct.object());
    }

    @Test
    void restartedServerBringsReadyModelsBackOnTheirPorts() throws Exception {
        Map<String, Object> before = server.deploy(Packages.zip(TestModels.echo("durable")));

        server.restart();

        Map<String, Object> after = Eventually.get(() -> server.get("/api/deployments/" + before.get("deploy_id"))
                .object(), o -> "READY".equals(o.get("state")));
        assertThat(after.get("port")).isEqualTo(before.get("port"));
        if (db == TestDatabase.POSTGRESQL) {
            // The shared row stayed READY: this server's own cell comes back as it follows the rows.
            Eventually.get(() -> server.predict("durable", "5"), r -> r.status() == 200);
        }
        assertThat(server.predict("durable", "5").object()).containsEntry("echo", 5L);
        assertThat(server.get("/api/models").list()).hasSize(1);
    }

    @Test
    void serverPortFileHoldsTheBoundPort() throws Exception {
        assertThat(Files.readString(data.resolve("server.port")).trim()).isEqualTo(String.valueOf(server.port()));
    }
}
