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
    void nothingFoundMeansTheDefaultAndNoToken() {
        Target t = Target.resolve(null, null, data, Map.of());

        assertThat(t.server()).hasToString(Target.DEFAULT_SERVER);
        assertThat(t.token()).isNull();
        assertThat(t.tokenSource()).startsWith("none found: pass --token, set DEPLOYER_TOKEN");
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
