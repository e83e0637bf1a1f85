package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code deployer login} and the client's home (DESIGN 1.13): any folder reaches the server logged in to. */
class LoginCliTest extends CliTest {

    @Test
    void loginFromOneFolderThenDeployFromAnotherFolder() throws Exception {
        Path config = work.resolve("config/deployer/client.json");
        Path here = Files.createDirectories(work.resolve("somewhere"));
        Path model = work.resolve("elsewhere/echo-anywhere");
        DeployPackingTest.write(model, "deploy.json", "{\"name\": \"echo-anywhere\", \"entry\": \"example.Echo\", "
                + "\"files\": [\"serving/*.java\"]}");
        DeployPackingTest.write(model, "serving/Echo.java", DeployPackingTest.ECHO);

        ChildCli.Run login = child(here, config, "login", server.url(), "--token", CliServer.TOKEN);
        ChildCli.Run deploy = child(model, config, "deploy", ".");
        ChildCli.Run predict = child(here, config, "predict", "echo-anywhere", "{\"x\":1}");

        assertThat(login.exit()).as(login.toString()).isZero();
        assertThat(login.out()).contains("logged in to " + server.url() + "; kept in " + config);
        assertThat(deploy.exit()).as(deploy.toString()).isZero();
        assertThat(deploy.out()).contains("echo-anywhere v1 READY on port ");
        assertThat(predict.exit()).as(predict.toString()).isZero();
        assertThat(predict.out()).contains("{\"echo\":{\"x\":1}}");
    }

    @Test
    void theLoginFileAndItsFolderAreOwnerOnly() throws IOException {
        Path xdg = work.resolve("xdg");
        Cli home = new Cli(Map.of("XDG_CONFIG_HOME", xdg.toString()));

        Cli.Run run = home.run("login", server.url(), "--token", CliServer.TOKEN);

        assertThat(run.exit()).as(run.toString()).isZero();
        Path file = xdg.resolve("deployer/client.json");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
                .isEqualTo("rwx------");
        assertThat(Files.readString(file)).contains("\"server\":\"" + server.url() + "\"")
                .contains("\"token\":\"" + CliServer.TOKEN + "\"");
        assertThat(home.run("list").exit()).isZero();
    }

    @Test
    void aLoginWithAWrongTokenKeepsNothing() {
        Path file = work.resolve("client.json");
        Cli home = new Cli(Map.of("DEPLOYER_CONFIG", file.toString()));

        Cli.Run run = home.run("login", server.url(), "--token", "not-the-token-at-all");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("deployer: the server at " + server.url() + " refused the token")
                .hasLineCount(1);
        assertThat(file).doesNotExist();
    }

    @Test
    void logoutForgetsTheServer() {
        Path file = work.resolve("client.json");
        Cli home = new Cli(Map.of("DEPLOYER_CONFIG", file.toString()));
        assertThat(home.run("login", server.url(), "--token", CliServer.TOKEN).exit()).isZero();

        Cli.Run out = home.run("logout");
        Cli.Run list = home.run("list");

        assertThat(out.out()).isEqualTo("logged out: removed " + file + "\n");
        assertThat(file).doesNotExist();
        assertThat(list.exit()).isEqualTo(2);
        assertThat(list.err()).startsWith("deployer: no server named: run `deployer login URL --token T` once");
    }

    @Test
    void aWrongTokenFailsTheDeployBeforeAnythingIsPacked() throws IOException {
        Path dir = work.resolve("big");
        DeployPackingTest.write(dir, "deploy.json", "{\"name\": \"big\", \"entry\": \"example.Echo\", "
                + "\"files\": [\"serving/*.java\", \"model/*\"]}");
        DeployPackingTest.write(dir, "serving/Echo.java", DeployPackingTest.ECHO);
        DeployPackingTest.write(dir, "model/weights.bin", "w".repeat(1 << 20));

        Cli.Run run = cli.run("deploy", dir.toString(), "--server", server.url(), "--token", "wrong-token-123456");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("deployer: the server at " + server.url() + " refused the token")
                .doesNotContain("packed").hasLineCount(1);
    }

    @Test
    void noServerNamedAnywhereIsTheClearError() throws Exception {
        Path model = work.resolve("lonely");
        DeployPackingTest.write(model, "deploy.json", "{\"name\": \"lonely\"}");

        ChildCli.Run deploy = child(model, work.resolve("no-login/client.json"), "deploy", ".");

        assertThat(deploy.exit()).as(deploy.toString()).isEqualTo(2);
        assertThat(deploy.err()).isEqualTo("deployer: " + Target.NO_SERVER + "\n");
    }

    @Test
    void helpNamesACommandsOptions() {
        Cli.Run run = cli.run("help", "deploy");

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).contains("Usage: deployer deploy", "--no-wait");
    }

    @Test
    void newPrintsANextStepThatWorksFromInsideTheNewFolder() {
        Path dir = work.resolve("fresh");

        Cli.Run run = new Cli(Map.of("DEPLOYER_CONFIG", work.resolve("none.json").toString()))
                .run("new", "fresh", "-t", "basic", "--dir", dir.toString());

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).contains("  cd " + dir + "\n", "  deployer login ", "  deployer deploy .\n");
    }

    private ChildCli.Run child(Path folder, Path config, String... args) throws Exception {
        return ChildCli.run(folder, work, Map.of("DEPLOYER_CONFIG", config.toString()), args);
    }
}
