package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database fails under a running server (issue 13, finding 4) — a full disk, then H2 closing the database as it
 * does after one — and comes back: meanwhile readiness answers 503 with the reason, the API answers 503 instead of
 * 500, and READY models keep scoring; once writes succeed again the store reopens by itself.
 */
class StorageFaultTest {

    @TempDir
    Path data;

    final AtomicReference<FaultyDataSource> faults = new AtomicReference<>();
    TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            faults.get().diskFull = false;
            faults.get().syntaxError = false;
            server.close();
        }
    }

    private void start() throws Exception {
        server = TestServer.start(data, new Deployer.StartOptions(false, real -> {
            FaultyDataSource wrapped = new FaultyDataSource(real);
            faults.set(wrapped);
            return wrapped;
        }));
    }

    @Test
    void aFailingDatabaseMakesTheServerNotReadyKeepsScoringAndRecovers() throws Exception {
        start();
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("steady")));
        assertThat(server.get("/api/health").status()).isEqualTo(200);

        faults.get().diskFull = true;
        faults.get().closeDatabase();

        TestServer.Response health = server.get("/api/health");
        assertThat(health.status()).isEqualTo(503);
        assertThat(health.object()).containsEntry("status", "DOWN");
        assertThat(health.error()).contains("No space left on device");
        TestServer.Response ready = server.get("/v2/health/ready");
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.error()).contains("No space left on device");
        TestServer.Response models = server.get("/api/models");
        assertThat(models.status()).isEqualTo(503);
        assertThat(models.error()).contains("database is failing").doesNotContain("SELECT");
        assertThat(server.predict("steady", "1").object()).containsEntry("echo", 1L);
        TestServer.Response metrics = server.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.text()).contains("deployer_requests_total{model=\"steady\"");
        assertThat(server.post(java.net.URI.create(d.get("url") + "/predict"), "2").object())
                .containsEntry("echo", 2L);

        faults.get().diskFull = false;

        Eventually.get(() -> server.get("/api/health").status(), status -> status == 200);
        assertThat(server.get("/v2/health/ready").status()).isEqualTo(200);
        assertThat(server.get("/api/models").list()).hasSize(1);
        assertThat(server.deploy(Packages.zip(TestModels.echo("steady")))).containsEntry("state", "READY")
                .containsEntry("version", 2L);
    }

    @Test
    void aBugInOurSqlAnswers500WithARequestIdAndNoSql() throws Exception {
        start();

        faults.get().syntaxError = true;
        TestServer.Response broken = server.get("/api/models");
        faults.get().syntaxError = false;

        assertThat(broken.status()).isEqualTo(500);
        assertThat(broken.object()).containsKey("request_id");
        assertThat(broken.error()).contains("request id " + broken.object().get("request_id"))
                .doesNotContain("SELECT").doesNotContain("modles").doesNotContain("Exception");
    }
}
