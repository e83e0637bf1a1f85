package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code DELETE /api/models/{name}/versions/{v}}: a version that does not serve goes, row and folder, nothing else. */
class VersionDeleteTest extends ServerTest {

    private TestServer.Response delete(String path) {
        return server.send(HttpRequest.newBuilder(server.uri(path))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
    }

    @Test
    void aFailedVersionGoesWithItsFolderAndItsNumberIsNeverGivenAgain() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("pruned")));
        Map<String, Object> failed = server.deploy(Packages.zip(TestModels.scripted("pruned", "Echo", "",
                "return undefinedThing;")));
        assertThat(failed).containsEntry("state", "FAILED").containsEntry("version", 2L);
        Path folder = server.data.resolve("models/pruned/" + failed.get("deploy_id"));
        assertThat(folder).isDirectory();

        TestServer.Response deleted = delete("/api/models/pruned/versions/2");

        assertThat(deleted.status()).as(deleted.text()).isEqualTo(204);
        assertThat(folder).doesNotExist();
        List<?> versions = (List<?>) server.get("/api/models/pruned").object().get("versions");
        assertThat(versions).hasSize(1);
        assertThat(TestServer.asMap(versions.get(0))).containsEntry("version", 1L);
        assertThat(server.get("/api/deployments/" + failed.get("deploy_id")).status()).isEqualTo(404);
        assertThat(server.get("/api/events?model=pruned").list()).anySatisfy(e -> assertThat(TestServer.asMap(e))
                .containsEntry("kind", "version-deleted").containsEntry("version", 2L));
        assertThat(server.predict("pruned", "{}").status()).isEqualTo(200);
        assertThat(server.deploy(Packages.zip(TestModels.echo("pruned")))).containsEntry("version", 3L);
    }

    @Test
    void theServingVersionIsRefusedWith409AndAnUnknownOneWith404() {
        server.deploy(Packages.zip(TestModels.echo("kept")));

        TestServer.Response active = delete("/api/models/kept/versions/1");
        TestServer.Response missing = delete("/api/models/kept/versions/7");
        TestServer.Response noModel = delete("/api/models/nobody/versions/1");

        assertThat(active.status()).isEqualTo(409);
        assertThat(active.error()).contains("version 1 is the active version of kept");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.error()).isEqualTo("model kept has no version 7");
        assertThat(noModel.status()).isEqualTo(404);
        assertThat(server.predict("kept", "{}").status()).isEqualTo(200);
        assertThat(Files.isDirectory(server.data.resolve("models/kept"))).isTrue();
    }

    @Test
    void aRetiredVersionCanBeDeletedAfterARollForward() {
        Map<String, Object> first = server.deploy(Packages.zip(TestModels.echo("rolled")));
        server.deploy(Packages.zip(TestModels.echo("rolled")));
        assertThat(server.get("/api/deployments/" + first.get("deploy_id")).object()).containsEntry("state",
                "RETIRED");

        assertThat(delete("/api/models/rolled/versions/1").status()).isEqualTo(204);

        assertThat(server.data.resolve("models/rolled/" + first.get("deploy_id"))).doesNotExist();
        assertThat(server.predict("rolled", "{}").object()).containsEntry("version", 2L);
    }
}
