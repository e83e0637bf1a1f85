package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the client finds server and token: flags, then DEPLOYER_SERVER / DEPLOYER_TOKEN, then the data folder. */
class TargetTest {

    @TempDir
    Path data;

    @Test
    void flagsComeFirst() throws IOException {
        serverFiles("7001", "token-from-the-data-folder");

        Target t = Target.resolve("http://flag:1/", "flag-token", data,
                Map.of("DEPLOYER_SERVER", "http://env:2", "DEPLOYER_TOKEN", "env-token"));

        assertThat(t.server()).hasToString("http://flag:1");
        assertThat(t.serverSource()).isEqualTo("--server");
        assertThat(t.token()).isEqualTo("flag-token");
        assertThat(t.tokenSource()).isEqualTo("--token");
    }

    @Test
    void environmentComesBeforeTheDataFolder() throws IOException {
        serverFiles("7001", "token-from-the-data-folder");

        Target t = Target.resolve(null, null, data,
                Map.of("DEPLOYER_SERVER", "http://env:2", "DEPLOYER_TOKEN", "env-token"));

        assertThat(t.server()).hasToString("http://env:2");
        assertThat(t.serverSource()).isEqualTo("DEPLOYER_SERVER");
        assertThat(t.token()).isEqualTo("env-token");
    }

    @Test
    void dataFolderGivesPortAndToken() throws IOException {
        serverFiles("7001", "token-from-the-data-folder");

        Target t = Target.resolve(null, null, data, Map.of());

        assertThat(t.server()).hasToString("http://127.0.0.1:7001");
        assertThat(t.serverSource()).isEqualTo(data.resolve("server.port").toString());
        assertThat(t.token()).isEqualTo("token-from-the-data-folder");
        assertThat(t.tokenSource()).isEqualTo(data.resolve("admin.token").toString());
    }

    @Test
    void dataFolderFromTheEnvironment() throws IOException {
        serverFiles("7002", "another-token-0123456");

        Target t = Target.resolve(null, null, null, Map.of("DEPLOYER_DATA", data.toString()));

        assertThat(t.server()).hasToString("http://127.0.0.1:7002");
        assertThat(t.token()).isEqualTo("another-token-0123456");
    }

    @Test
    void nothingNamedIsAClearErrorNeverADefaultAddress() {
        assertThatThrownBy(() -> Target.resolve(null, null, data, Map.of()))
                .isInstanceOf(CliFailure.class)
                .hasMessage("no server named: run `deployer login URL --token T` once, or pass --server URL, or set "
                        + "DEPLOYER_SERVER (or run the command in the folder that holds the server's ./deployer-data)")
                .extracting(e -> ((CliFailure) e).exitCode()).isEqualTo(2);
    }

    @Test
    void theLoginFileComesAfterTheEnvironment() throws IOException {
        ClientHome home = login("http://logged-in:3", "login-token");

        Target fromFile = Target.resolve(null, null, null, Map.of(), home);
        Target fromEnv = Target.resolve(null, null, null,
                Map.of("DEPLOYER_SERVER", "http://env:2", "DEPLOYER_TOKEN", "env-token"), home);

        assertThat(fromFile.server()).hasToString("http://logged-in:3");
        assertThat(fromFile.token()).isEqualTo("login-token");
        assertThat(fromFile.tokenSource()).isEqualTo(home.file().toString());
        assertThat(fromEnv.server()).hasToString("http://env:2");
        assertThat(fromEnv.token()).isEqualTo("env-token");
    }

    @Test
    void aLoginsTokenIsNeverSentToAnotherServer() throws IOException {
        ClientHome home = login("http://logged-in:3", "login-token");

        Target other = Target.resolve("http://someone-else:4", null, null, Map.of(), home);
        Target same = Target.resolve("http://logged-in:3/", null, null, Map.of(), home);

        assertThat(other.token()).isNull();
        assertThat(other.tokenSource()).contains(home.file() + " is not for this server but for http://logged-in:3");
        assertThat(same.token()).isEqualTo("login-token");
    }

    @Test
    void theClientFileIsFoundFromTheEnvironmentOnly() {
        assertThat(ClientHome.of(Map.of()).file()).isNull();
        assertThat(ClientHome.of(Map.of("HOME", "/h")).file()).isEqualTo(Path.of("/h/.config/deployer/client.json"));
        assertThat(ClientHome.of(Map.of("HOME", "/h", "XDG_CONFIG_HOME", "/x")).file())
                .isEqualTo(Path.of("/x/deployer/client.json"));
        assertThat(ClientHome.of(Map.of("HOME", "/h", "XDG_CONFIG_HOME", "/x", "DEPLOYER_CONFIG", "/c/./me.json"))
                .file()).isEqualTo(Path.of("/c/me.json"));
    }

    @Test
    void aBrokenClientFileIsNamedNotSkipped() throws IOException {
        Path file = data.resolve("client.json");
        Files.writeString(file, "{not json");

        assertThatThrownBy(() -> Target.resolve(null, null, null, Map.of("DEPLOYER_CONFIG", file.toString())))
                .isInstanceOf(CliFailure.class).hasMessageStartingWith(file + " is not readable JSON");
    }

    @Test
    void printedPathsAreNormalized() {
        assertThat(Target.display(Path.of("/x/./deployer-data/admin.token"))).isEqualTo("/x/deployer-data/admin.token");
    }

    private ClientHome login(String server, String token) throws IOException {
        ClientHome home = ClientHome.of(Map.of("DEPLOYER_CONFIG", data.resolve("home/client.json").toString()));
        home.write(new ClientHome.Login(server, token));
        return home;
    }

    @Test
    void aServerThatIsNotAUrlIsAUsageErrorNamingItsSource() {
        assertThatThrownBy(() -> Target.resolve(null, null, data, Map.of("DEPLOYER_SERVER", "localhost:8080")))
                .isInstanceOf(CliFailure.class)
                .hasMessage("server 'localhost:8080' (from DEPLOYER_SERVER) is not a URL like http://127.0.0.1:8080")
                .extracting(e -> ((CliFailure) e).exitCode()).isEqualTo(2);
    }

    private void serverFiles(String port, String token) throws IOException {
        Files.writeString(data.resolve("server.port"), port + "\n");
        Files.writeString(data.resolve("admin.token"), token + "\n");
    }
}
