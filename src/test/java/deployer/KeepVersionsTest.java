package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.Settings;

/** {@code --keep-versions N}: after each deploy, versions older than the newest N that do not serve go. */
class KeepVersionsTest {

    @TempDir
    Path data;

    @Test
    void theNewestTwoAreKeptAndTheOlderOnesLeaveNoRowOrFolder() throws Exception {
        try (TestServer server = TestServer.start(Settings.defaults(data).withPort(0)
                .withCellPorts(Settings.PortRange.any()).withToken(TestServer.TOKEN).withKeepVersions(2))) {
            List<Object> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ids.add(server.deploy(Packages.zip(TestModels.echo("kept-two"))).get("deploy_id"));
            }

            List<?> versions = (List<?>) server.get("/api/models/kept-two").object().get("versions");
            assertThat(versions.stream().map(v -> TestServer.asMap(v).get("version")).toList())
                    .containsExactly(4L, 3L);
            try (Stream<Path> folders = Files.list(data.resolve("models/kept-two"))) {
                assertThat(folders.map(f -> f.getFileName().toString()).sorted().toList())
                        .containsExactlyInAnyOrder(String.valueOf(ids.get(2)), String.valueOf(ids.get(3)));
            }
            assertThat(server.get("/api/events?model=kept-two&limit=1000").list().stream()
                    .filter(e -> "version-deleted".equals(TestServer.asMap(e).get("kind")))).hasSize(2);
            assertThat(server.predict("kept-two", "{}").object()).containsEntry("version", 4L);
            Map<String, Object> next = server.deploy(Packages.zip(TestModels.echo("kept-two")));
            assertThat(next).containsEntry("version", 5L);
        }
    }

    @Test
    void byDefaultEveryVersionIsKept() throws Exception {
        try (TestServer server = TestServer.start(data)) {
            for (int i = 0; i < 3; i++) {
                server.deploy(Packages.zip(TestModels.echo("all-kept")));
            }

            assertThat((List<?>) server.get("/api/models/all-kept").object().get("versions")).hasSize(3);
        }
    }
}
