package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * An upload racing a {@code DELETE} of the same model (issue 13, finding 2) is either refused before its 202, or
 * kept: answered with a deploy_id that stays a real version with its files — or, when the delete came after it,
 * one that delete names as removed, with its files in {@code removed/}. Fifty races, the model's close() slow.
 */
class UploadDeleteRaceTest extends ServerTest {

    static final int RACES = 50;

    @Test
    void uploadsRacingDeletesAreEitherRefusedOrKeptNeverLost() throws Exception {
        byte[] archive = Packages.zip(TestModels.prebuilt(work, "{\"name\": \"racer\"}", "Racer", "",
                "return Map.of(\"version\", context.version());", """
                @Override
                public void close() throws Exception {
                    Thread.sleep(200);
                }
                """));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<String> lost = new ArrayList<>();
        int refused = 0;
        int kept = 0;
        int deletedAfter = 0;
        try {
            for (int i = 0; i < RACES; i++) {
                if (server.get("/api/models/racer").status() == 404) {
                    server.deploy(archive);
                }
                CountDownLatch go = new CountDownLatch(1);
                CompletableFuture<TestServer.Response> upload = CompletableFuture.supplyAsync(() -> {
                    await(go);
                    return server.upload(archive, null);
                }, pool);
                CompletableFuture<TestServer.Response> delete = CompletableFuture.supplyAsync(() -> {
                    await(go);
                    return server.send(HttpRequest.newBuilder(server.uri("/api/models/racer"))
                            .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
                }, pool);
                go.countDown();
                TestServer.Response up = upload.join();
                TestServer.Response del = delete.join();
                assertThat(del.status()).as("the delete: %s", del.text()).isIn(204, 409);
                if (up.status() == 409) {
                    assertThat(up.error()).contains("being deleted");
                    refused++;
                    continue;
                }
                assertThat(up.status()).as("the upload: %s", up.text()).isEqualTo(202);
                long id = ((Number) up.object().get("deploy_id")).longValue();
                TestServer.Response now = server.get("/api/deployments/" + id);
                if (now.status() == 200) {
                    Map<String, Object> settled = Eventually.get(() -> server.get("/api/deployments/" + id),
                            r -> r.status() == 404 || !"STARTING".equals(r.object().get("state"))).object();
                    if (settled != null && "READY".equals(settled.get("state"))
                            && Files.isDirectory(data.resolve("models/racer/" + id))) {
                        kept++;
                        continue;
                    }
                }
                if (deletedWith(id)) {
                    deletedAfter++;
                } else {
                    lost.add("race " + i + ": deploy_id " + id + " answered 202, now " + server.get(
                            "/api/deployments/" + id).text());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(lost).as("uploads answered 202 and then lost").isEmpty();
        assertThat(refused + kept + deletedAfter).isEqualTo(RACES);
    }

    /** Whether a "deleted" event names the deploy_id, and its folder was kept in removed/. */
    private boolean deletedWith(long id) throws Exception {
        boolean named = server.get("/api/events?model=racer&limit=10000").list().stream().map(TestServer::asMap)
                .anyMatch(e -> "deleted".equals(e.get("kind")) && String.valueOf(e.get("message"))
                        .matches(".*deploy_ids \\[[0-9, ]*\\b" + id + "\\b.*"));
        if (!named) {
            return false;
        }
        try (Stream<Path> removed = Files.list(data.resolve("removed"))) {
            return removed.anyMatch(folder -> Files.isDirectory(folder.resolve(Long.toString(id))));
        }
    }

    private static void await(CountDownLatch go) {
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
