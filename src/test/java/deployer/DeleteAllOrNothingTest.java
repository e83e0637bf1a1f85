package deployer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import deployer.core.FileTrees;

/**
 * A non-purge delete whose files cannot move to {@code removed/} changes nothing (issue 13, finding 3): the answer
 * names the path, the model keeps serving, its rows and files stay, and the next start keeps them too.
 */
class DeleteAllOrNothingTest extends ServerTest {

    @Test
    void aDeleteThatCannotMoveItsFilesChangesNothingAndSaysWhere() throws Exception {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("precious")));
        Path folder = data.resolve("models/precious/" + d.get("deploy_id"));
        // What a full or read-only removed/ does to the move, made without root's power over permissions.
        Files.writeString(data.resolve("removed"), "not a folder");

        TestServer.Response refused = delete("precious");

        assertThat(refused.status()).as(refused.text()).isEqualTo(409);
        assertThat(refused.error()).contains(data.resolve("removed").toString()).contains("nothing was changed");
        assertUntouched(d, folder);

        server.restart();
        Eventually.get(() -> server.get("/api/deployments/" + d.get("deploy_id")).object(),
                o -> "READY".equals(o.get("state")));
        assertUntouched(d, folder);

        Files.delete(data.resolve("removed"));
        assertThat(delete("precious").status()).isEqualTo(204);
        assertThat(folder).doesNotExist();
    }

    @Test
    void aMoveThatFailsInsideTheDeleteRollsTheRowsBack() throws Exception {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("anchored")));
        Path folder = data.resolve("models/anchored/" + d.get("deploy_id"));
        // removed/ on another file system: the folder exists, but an atomic move into it is impossible.
        Path elsewhere = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(elsewhere) && !Files.getFileStore(elsewhere).equals(Files.getFileStore(data)),
                "needs a second file system at /dev/shm");
        Path target = Files.createTempDirectory(elsewhere, "removed");
        try {
            Files.createSymbolicLink(data.resolve("removed"), target);

            TestServer.Response refused = delete("anchored");

            assertThat(refused.status()).as(refused.text()).isEqualTo(409);
            assertThat(refused.error()).contains("nothing was changed").contains(folder.getParent().toString());
            assertUntouched(d, folder);
            // The delete mark was taken back: a new version may be uploaded.
            assertThat(server.deploy(Packages.zip(TestModels.echo("anchored")))).containsEntry("version", 2L);
        } finally {
            FileTrees.delete(target);
        }
    }

    private void assertUntouched(Map<String, Object> d, Path folder) {
        assertThat(server.get("/api/models/" + d.get("model")).status()).isEqualTo(200);
        assertThat(server.get("/api/deployments/" + d.get("deploy_id")).object()).containsEntry("state", "READY");
        assertThat(server.predict((String) d.get("model"), "7").object()).containsEntry("echo", 7L);
        assertThat(folder.resolve("deploy.json")).exists();
    }

    private TestServer.Response delete(String model) {
        return server.send(HttpRequest.newBuilder(server.uri("/api/models/" + model))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
    }
}
