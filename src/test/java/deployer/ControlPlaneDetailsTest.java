package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.FileTrees;
import deployer.core.Settings;

/** The small ones of issue 13, item 7: each seen on the old main, each now answered as it should be. */
class ControlPlaneDetailsTest {

    @TempDir
    Path data;

    @Test
    void startOfAVersionWhoseFilesAreGoneIs409() throws Exception {
        try (TestServer server = TestServer.start(data)) {
            Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("vanished")));
            assertThat(server.send(post(server, "/api/models/vanished/stop")).status()).isEqualTo(200);
            FileTrees.delete(data.resolve("models/vanished/" + d.get("deploy_id")));

            TestServer.Response start = server.send(post(server, "/api/models/vanished/start"));

            assertThat(start.status()).isEqualTo(409);
            assertThat(start.error()).contains("are gone").contains("upload it again");
            assertThat(server.get("/api/deployments/" + d.get("deploy_id")).object()).containsEntry("state", "STOPPED");
        }
    }

    @Test
    void twoCallersRacingOnOneModelGetOneSuccessAndOne409WithTheReason() throws Exception {
        try (TestServer server = TestServer.start(data)) {
            server.deploy(Packages.zip(TestModels.echo("contested")));
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<TestServer.Response>> stops = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                stops.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return server.send(post(server, "/api/models/contested/stop"));
                }));
            }
            go.countDown();

            List<TestServer.Response> answers = stops.stream()
                    .map(CompletableFuture::join).toList();

            assertThat(answers).extracting(TestServer.Response::status).containsExactlyInAnyOrder(200, 409);
            TestServer.Response lost = answers.stream().filter(r -> r.status() == 409).findFirst().orElseThrow();
            assertThat(lost.error()).containsAnyOf("busy (stopping version 1)", "STOPPED, not READY");
        }
    }

    @Test
    void compiledAndLoadedEventsEachTimeTheirOwnStep() throws Exception {
        try (TestServer server = TestServer.start(data)) {
            server.deploy(Packages.zip(TestModels.echo("timed")));

            Map<Object, Object> messages = new java.util.HashMap<>();
            server.get("/api/events?model=timed").list().stream().map(TestServer::asMap)
                    .forEach(e -> messages.put(e.get("kind"), e.get("message")));

            assertThat((String) messages.get("compiled")).matches("serving scripts compiled in \\d+ ms");
            assertThat((String) messages.get("loaded")).matches("load\\(\\) returned in \\d+ ms");
        }
    }

    @Test
    void the401SaysWhereTheTokenIsWithoutThePath() throws Exception {
        try (TestServer server = TestServer.start(Settings.defaults(data).withPort(0)
                .withCellPorts(Settings.PortRange.any()))) {
            TestServer.Response missing = server.send(HttpRequest.newBuilder(server.uri("/api/models")).GET());
            TestServer.Response wrong = server.send(HttpRequest.newBuilder(server.uri("/api/models"))
                    .header("Authorization", "Bearer not-the-token-at-all").GET());

            for (TestServer.Response r : List.of(missing, wrong)) {
                assertThat(r.status()).isEqualTo(401);
                assertThat(r.error()).contains("see admin.token in the server's data folder")
                        .doesNotContain(data.toString()).doesNotContain("/");
            }
        }
    }

    @Test
    void aTokenFileReadableByOthersIsMadeOwnerOnly() throws Exception {
        Files.createDirectories(data);
        Path file = data.resolve("admin.token");
        Files.writeString(file, "an-old-token-0123456789\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        try (TestServer server = TestServer.start(Settings.defaults(data).withPort(0)
                .withCellPorts(Settings.PortRange.any()))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            assertThat(server.send(HttpRequest.newBuilder(server.uri("/api/models"))
                    .header("Authorization", "Bearer an-old-token-0123456789").GET()).status()).isEqualTo(200);
        }
    }

    private static HttpRequest.Builder post(TestServer server, String path) {
        return HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + TestServer.TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody());
    }
}
