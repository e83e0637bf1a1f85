package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import deployer.testing.Postgres;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.Settings;

/**
 * A server whose PostgreSQL goes away (DESIGN 1.12): its models keep scoring, {@code /api/**} answers 503 naming the
 * database as the reason, and once the database is back the API answers again and takes new uploads.
 */
class DatabaseOutageTest {

    @TempDir
    Path data;

    Postgres.Cluster cluster;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(Postgres.Cluster.unavailable().isEmpty(),
                () -> Postgres.Cluster.unavailable().orElse(""));
        cluster = Postgres.Cluster.start();
        server = TestServer.start(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any())
                .withToken(TestServer.TOKEN).withDb(Settings.Db.postgresql(cluster.url())));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void modelsKeepScoringWhileTheDatabaseIsDownAndTheApiAnswers503ThenRecovers() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("steady")));
        URI direct = URI.create(d.get("url") + "/predict");

        cluster.down();

        TestServer.Response refused = Eventually.get(() -> server.get("/api/models"), r -> r.status() == 503);
        assertThat(refused.error()).contains("database").contains("retry");
        for (int i = 0; i < 20; i++) {
            TestServer.Response gateway = server.predict("steady", Integer.toString(i));
            assertThat(gateway.status()).as(gateway.text()).isEqualTo(200);
            assertThat(gateway.object()).containsEntry("echo", (long) i);
            assertThat(server.post(direct, "7").status()).isEqualTo(200);
        }
        assertThat(server.upload(Packages.zip(TestModels.echo("steady")), "wait=30").status())
                .as("an upload while the database is down").isEqualTo(503);

        cluster.up();

        TestServer.Response back = Eventually.get(() -> server.get("/api/models"), r -> r.status() == 200);
        assertThat(back.list()).hasSize(1);
        Map<String, Object> next = server.deploy(Packages.zip(TestModels.echo("steady")));
        assertThat(next).containsEntry("state", "READY").containsEntry("version", 2L);
        assertThat(server.predict("steady", "1").object()).containsEntry("version", 2L);
    }
}
