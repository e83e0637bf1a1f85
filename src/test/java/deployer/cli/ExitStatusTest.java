package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Exit statuses: 0 ok, 1 FAILED or refused by the server, 2 usage or no server; and always one clear line. */
class ExitStatusTest extends CliTest {

    @Test
    void aTakenPortNamesTheFlagsThatPickAnother() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ChildCli.Run run = ChildCli.run(work, work, java.util.Map.of(), "serve", "--port",
                    String.valueOf(taken.getLocalPort()), "--data", work.resolve("data").toString(), "--cell-ports", "0");

            assertThat(run.exit()).as(run.toString()).isEqualTo(1);
            assertThat(run.err()).contains("deployer: could not start: port " + taken.getLocalPort()
                    + " on 127.0.0.1 is taken", "--port 0 picks a free one", "--cell-ports");
        }
    }

    @Test
    void serverThatIsNotAUrlIsOneLineAndExit2() {
        Cli.Run run = cli.run("list", "--server", "htp:/nowhere", "--token", CliServer.TOKEN);

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).isEqualTo("deployer: server 'htp:/nowhere' (from --server) is not a URL like "
                + "http://127.0.0.1:8080\n");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void noServerListeningIsOneLineAndExit2() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }

        Cli.Run run = cli.run("list", "--server", "http://127.0.0.1:" + closed, "--token", CliServer.TOKEN);

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).startsWith("deployer: cannot connect to http://127.0.0.1:" + closed + " (from --server)")
                .endsWith("is the server running?\n").hasLineCount(1);
    }

    @Test
    void unknownHostIsOneLineAndExit2() {
        Cli.Run run = cli.run("list", "--server", "http://no-such-host.invalid:8080", "--token", CliServer.TOKEN);

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).startsWith("deployer: cannot connect to http://no-such-host.invalid:8080")
                .hasLineCount(1);
    }

    @Test
    void wrongTokenIsOneLineAndExit1() {
        Cli.Run run = cli.run("list", "--server", server.url(), "--token", "not-the-token-at-all");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("deployer: the server at " + server.url()
                + " refused the token (from --token): ").hasLineCount(1);
    }

    @Test
    void noTokenAnywhereSaysWhereItLooked() {
        Cli.Run run = cli.run("list", "--server", server.url(), "--data", work.toString());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("deployer: the server at " + server.url() + " wants an admin token, and "
                + "there is none (none found: pass --token, set DEPLOYER_TOKEN").hasLineCount(1);
    }

    @Test
    void compileErrorFailsTheDeployWithFileAndLine() throws IOException {
        Path dir = work.resolve("broken");
        DeployPackingTest.write(dir, "deploy.json",
                "{\"name\": \"broken\", \"entry\": \"example.Broken\", \"files\": [\"serving/*.java\"]}");
        DeployPackingTest.write(dir, "serving/Broken.java",
                "package example;\n\npublic class Broken {\n  int x = ;\n}\n");

        Cli.Run run = cli.run(server.with("deploy", dir.toString()));

        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("serving/Broken.java:4: error:");
    }

    @Test
    void failingLoadEndsFailedAndStatusSaysWhy() throws IOException {
        Path dir = work.resolve("unloadable");
        DeployPackingTest.write(dir, "deploy.json",
                "{\"name\": \"unloadable\", \"entry\": \"example.Unloadable\", \"files\": [\"serving/*.java\"]}");
        DeployPackingTest.write(dir, "serving/Unloadable.java", """
                package example;

                public class Unloadable implements deployer.spi.Model {
                    @Override
                    public void load(deployer.spi.ModelContext context) {
                        throw new IllegalStateException("model/weights.bin is missing");
                    }

                    @Override
                    public Object score(Object input) {
                        return input;
                    }
                }
                """);

        Cli.Run run = cli.run(server.with("deploy", dir.toString()));

        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("deployer: unloadable v1 FAILED: ", "model/weights.bin is missing");
        String id = run.err().replaceAll("(?s).*deploy_id (\\d+).*", "$1");
        Cli.Run status = cli.run(server.with("status", id));
        assertThat(status.exit()).isEqualTo(1);
        assertThat(status.out()).containsPattern("state: +FAILED").contains("model/weights.bin is missing");
    }

    @Test
    void invalidManifestIsRefusedBeforeUploading() throws IOException {
        Path dir = work.resolve("typo");
        DeployPackingTest.write(dir, "deploy.json", "{\"name\": \"typo\", \"fiels\": []}");

        Cli.Run run = cli.run(server.with("deploy", dir.toString()));

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("deployer: " + dir.resolve("deploy.json") + ": deploy.json: ")
                .contains("fiels").hasLineCount(1);
    }

    @Test
    void folderWithoutManifestIsAUsageError() {
        Cli.Run run = cli.run(server.with("deploy", work.toString()));

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).startsWith("deployer: " + work + " has no deploy.json");
    }

    @Test
    void missingArgumentIsAUsageError() {
        Cli.Run run = cli.run("deploy");

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required parameter: 'DIR|ARCHIVE'");
    }

    @Test
    void unknownModelAndDeploymentAreApiErrors() {
        Cli.Run stop = cli.run(server.with("stop", "nobody"));
        Cli.Run status = cli.run(server.with("status", "424242"));

        assertThat(stop.exit()).isEqualTo(1);
        assertThat(stop.err()).contains("nobody").contains("(HTTP 404)").hasLineCount(1);
        assertThat(status.exit()).isEqualTo(1);
        assertThat(status.err()).isEqualTo("deployer: no deployment 424242 (HTTP 404)\n");
    }

    @Test
    void predictWithInputTheModelRefusesIsExit1() {
        Cli.Run deployed = cli.run(server.with("deploy", "cells/iris"));
        assertThat(deployed.exit()).as(deployed.toString()).isZero();

        Cli.Run run = cli.run(server.with("predict", "iris", "{\"features\":[1]}"));

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("deployer: iris: ").contains("features must be an array of 4 numbers")
                .contains("(HTTP 400)");
    }
}
