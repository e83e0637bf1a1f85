package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.store.Database;
import deployer.testing.Packages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.FileTrees;

/**
 * A data folder whose database was removed or emptied (issue 13, finding 1): a real server process refuses to start,
 * names what it found and what to do, and leaves every package folder as it was; {@code serve --rebuild-db} then
 * records the models again from their folders, STOPPED, and they start.
 */
class LostDatabaseTest {

    @TempDir
    Path data;

    @TempDir
    Path logs;

    final ChildHttp http = new ChildHttp();

    @Test
    void aRemovedOrEmptiedDatabaseIsRefusedAndEveryPackageKeptThenRebuilt() throws Exception {
        long iris;
        try (ChildServer server = ChildServer.start(data, logs.resolve("first.log"))) {
            iris = ((Number) http.upload(server, Packages.zip(TestModels.echo("iris")), "wait=60").object()
                    .get("deploy_id")).longValue();
            http.upload(server, Packages.zip(TestModels.echo("iris")), "wait=60");
            http.upload(server, Packages.zip(TestModels.echo("wine")), "wait=60");
            assertThat(server.terminate()).isIn(0, 143);
        }
        List<Path> before = packages();
        assertThat(before).hasSize(3);

        FileTrees.delete(data.resolve("db"));
        String removed = refused(logs.resolve("no-db.log"));
        assertThat(removed).contains("refusing to start").contains("iris (2 versions)").contains("wine (1 version)")
                .contains("--rebuild-db").contains("Nothing was changed");
        assertThat(packages()).containsExactlyElementsOf(before);

        Database.shutdown(Database.open(data.resolve("db")));
        assertThat(refused(logs.resolve("empty-db.log"))).contains("refusing to start").contains("iris");
        assertThat(packages()).containsExactlyElementsOf(before);

        try (ChildServer rebuilt = ChildServer.start(data, logs.resolve("rebuilt.log"), "--rebuild-db")) {
            List<Map<String, Object>> versions = http.versions(rebuilt, "iris");
            assertThat(versions).extracting(v -> v.get("state")).containsExactly("STOPPED", "STOPPED");
            assertThat(versions).extracting(v -> v.get("version")).containsExactly(2L, 1L);
            assertThat(versions.get(1)).containsEntry("deploy_id", iris);
            assertThat(http.call(rebuilt, "POST", "/api/models/iris/start").object())
                    .containsEntry("state", "READY").containsEntry("version", 2L);
            assertThat(http.post(rebuilt.uri("/models/iris/predict"), "5").text()).contains("\"echo\":5");
            // New uploads are numbered past the folders that came back.
            long next = ((Number) http.upload(rebuilt, Packages.zip(TestModels.echo("wine")), "wait=60").object()
                    .get("deploy_id")).longValue();
            assertThat(next).isGreaterThan(before.stream().mapToLong(p -> Long.parseLong(p.getFileName()
                    .toString())).max().orElseThrow());
        }
    }

    /** Starts a server that must refuse; returns what it said. */
    private String refused(Path log) throws Exception {
        Files.deleteIfExists(data.resolve("server.port"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "deployer.Main", "serve", "--port", "0",
                "--data", data.toString(), "--token", TestServer.TOKEN).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(data.resolve("server.port")).doesNotExist();
        return Files.readString(log);
    }

    private List<Path> packages() throws Exception {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> models = Files.list(data.resolve("models"))) {
            for (Path model : models.sorted().toList()) {
                try (Stream<Path> versions = Files.list(model)) {
                    versions.sorted().forEach(v -> {
                        assertThat(v.resolve("deploy.json")).exists();
                        found.add(v);
                    });
                }
            }
        }
        return found;
    }
}
