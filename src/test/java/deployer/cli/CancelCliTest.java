package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deployer cancel DEPLOY_ID} gives up a version whose load() would take an hour. */
class CancelCliTest extends CliServerTest {

    @Test
    void cancelGivesUpAStartingVersionAndIsRefusedForASettledOne(@TempDir Path work) throws Exception {
        Path dir = work.resolve("glacial");
        Files.createDirectories(dir.resolve("serving"));
        Files.writeString(dir.resolve("deploy.json"), "{\"name\": \"glacial\", \"entry\": \"example.Glacial\","
                + " \"files\": [\"serving/*.java\"], \"limits\": {\"load_timeout_ms\": 3600000}}");
        Files.writeString(dir.resolve("serving/Glacial.java"), """
                package example;

                public class Glacial implements deployer.spi.Model {
                    @Override
                    public void load(deployer.spi.ModelContext context) throws Exception {
                        Thread.sleep(3_600_000L);
                    }

                    @Override
                    public Object score(Object input) {
                        return 1;
                    }
                }
                """);
        Cli.Run deployed = cli.run(server.with("deploy", dir.toString(), "--no-wait", "--json"));
        assertThat(deployed.exit()).as(deployed.toString()).isZero();
        Object deployId = ((Map<?, ?>) Json.parse(deployed.out().getBytes(StandardCharsets.UTF_8))).get("deploy_id");

        assertThat(cli.run(server.with("status", String.valueOf(deployId))).out())
                .contains("`deployer cancel " + deployId + "` gives it up");

        Cli.Run cancelled = cli.run(server.with("cancel", String.valueOf(deployId)));

        assertThat(cancelled.exit()).as(cancelled.toString()).isZero();
        assertThat(cancelled.out()).isEqualTo("glacial version 1 (deploy_id " + deployId + ") cancelled\n");
        assertThat(cli.run(server.with("status", String.valueOf(deployId))).out()).containsPattern("state: +FAILED")
                .contains("cancelled");
        Cli.Run again = cli.run(server.with("cancel", String.valueOf(deployId)));
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("not STARTING");
    }
}
