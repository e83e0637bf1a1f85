package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code deployer deploy --beside}, {@code deployer traffic} and {@code deployer payloads} (DESIGN 1.11). */
class TrafficCliTest extends CliTest {

    private Path echo(String name) throws Exception {
        Path dir = work.resolve(name);
        DeployPackingTest.write(dir, "deploy.json", "{\"name\": \"" + name + "\", \"entry\": \"example.Echo\","
                + " \"files\": [\"serving/*.java\"], \"payloads\": {\"sample\": 1, \"redact\": [\"secret\"]}}");
        DeployPackingTest.write(dir, "serving/Echo.java", """
                package example;

                public class Echo implements deployer.spi.Model {
                    @Override
                    public void load(deployer.spi.ModelContext context) {
                    }

                    @Override
                    public Object score(Object input) {
                        return input;
                    }
                }
                """);
        return dir;
    }

    @Test
    void trafficSetsShowsAndClearsASplit() throws Exception {
        Path dir = echo("cli-split");
        assertThat(cli.run(server.with("deploy", dir.toString())).exit()).isZero();
        Cli.Run beside = cli.run(server.with("deploy", dir.toString(), "--beside"));
        assertThat(beside.exit()).as(beside.toString()).isZero();

        Cli.Run set = cli.run(server.with("traffic", "cli-split", "1=70", "2=30", "--shadow", "2:10"));
        assertThat(set.exit()).as(set.toString()).isZero();
        assertThat(set.out()).contains("v1=70%").contains("v2=30%").contains("shadow v2 on 10%");

        Cli.Run shown = cli.run(server.with("traffic", "cli-split"));
        assertThat(shown.out()).contains("v2=30%");

        Cli.Run bad = cli.run(server.with("traffic", "cli-split", "1=70", "3=30"));
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("version 3");

        Cli.Run cleared = cli.run(server.with("traffic", "cli-split", "--clear"));
        assertThat(cleared.exit()).as(cleared.toString()).isZero();
        assertThat(cleared.out()).contains("all requests to it");
    }

    @Test
    void payloadsShowsTheRecordsNewestFirst() throws Exception {
        assertThat(cli.run(server.with("deploy", echo("cli-records").toString())).exit()).isZero();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> {
            server.predict("cli-records", "{\"secret\": \"s3cr3t\", \"n\": 1}");
            server.deployer.traffic().flushPayloads();
            return cli.run(server.with("payloads", "cli-records")).out().contains("\"n\":1");
        });
        Cli.Run shown = cli.run(server.with("payloads", "cli-records", "--limit", "1"));
        assertThat(shown.out()).contains("\"secret\":\"***\"").doesNotContain("s3cr3t").contains(" v1 200 ");
    }
}
