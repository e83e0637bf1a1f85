package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/** The health loop shows a cell that stopped answering as not healthy, and restarts it. */
class HealthLoopTest extends ServerTest {

    @Override
    Settings settings(Settings defaults) {
        return defaults.withPingIntervalMs(200).withPingFailures(3);
    }

    @Test
    void unhealthyCellIsShownAsSuchThenRestartedWithAFreshCell() throws Exception {
        Path sick = work.resolve("sick");
        // healthy() turns false once the file appears, but only for a cell loaded before it did: the fresh cell
        // the health loop starts is healthy again.
        String manifest = "{\"name\": \"wobbly\", \"properties\": {\"sick\": \"" + sick + "\"}}";
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Wobbly",
                "sickAtLoad = java.nio.file.Files.exists(java.nio.file.Path.of(context.properties().get(\"sick\")));",
                "return Map.of(\"fine\", true);", """
                private boolean sickAtLoad;

                @Override
                public boolean healthy() {
                    return sickAtLoad || !java.nio.file.Files.exists(java.nio.file.Path.of(context.properties().get("sick")));
                }
                """)));
        String status = "/api/deployments/" + d.get("deploy_id");
        assertThat(server.get(status).object()).containsEntry("healthy", true).containsEntry("restarts", 0L);

        AtomicBoolean sawUnhealthy = new AtomicBoolean();
        Files.createFile(sick);
        Map<String, Object> after = Eventually.get(() -> server.get(status).object(), o -> {
            if (Boolean.FALSE.equals(o.get("healthy"))) {
                sawUnhealthy.set(true);
            }
            return ((Long) o.get("restarts")) >= 1 && Boolean.TRUE.equals(o.get("healthy"));
        });

        assertThat(sawUnhealthy).isTrue();
        assertThat(after).containsEntry("state", "READY").containsEntry("port", d.get("port"));
        assertThat(after.get("last_ping")).isNotNull();
        // The old cell is retired in the background after the swap; its "replaced" event comes when that is done.
        assertThat(Eventually.get(() -> HotSwapTest.kinds(server, "wobbly"), kinds -> kinds.contains("replaced")))
                .contains("ping-failed", "restarting", "replaced");
        assertThat(server.predict("wobbly", "{}").status()).isEqualTo(200);
    }

    @Test
    void healthEndpointAnswers503WhenTheModelSaysItIsNotHealthy() throws Exception {
        Path sick = work.resolve("down");
        String manifest = "{\"name\": \"moody\", \"properties\": {\"sick\": \"" + sick + "\"}}";
        server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Moody", "", "return 1;", """
                @Override
                public boolean healthy() {
                    return !java.nio.file.Files.exists(java.nio.file.Path.of(context.properties().get("sick")));
                }
                """)));
        Files.createFile(sick);

        TestServer.Response r = server.send(java.net.http.HttpRequest.newBuilder(
                server.uri("/models/moody/health")).GET());

        assertThat(r.status()).isEqualTo(503);
        assertThat(r.object()).containsEntry("status", "DOWN").containsEntry("error", "healthy() returned false");
    }
}
