package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import deployer.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real server processes, each with its own data folder and cell ports, on one PostgreSQL database (DESIGN
 * 1.12): what is decided through one of them — upload, activate, stop, start, delete — is served by all of them.
 */
class ReplicasTest {

    /** The contract's 5 s, with room for a cell's compile and load on a box shared with other builds. */
    private static final Duration FOLLOWS_WITHIN = Duration.ofSeconds(60);

    @TempDir
    Path work;

    final ChildHttp http = new ChildHttp();
    final List<ChildServer> servers = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (ChildServer s : servers) {
            s.close();
        }
        for (int i = 0; i < servers.size(); i++) {
            char node = (char) ('a' + i);
            List<String> lines = java.nio.file.Files.readAllLines(work.resolve(node + ".log"));
            lines.stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ") || l.contains("Exception"))
                    .forEach(l -> System.out.println(node + ": " + l));
            assertThat(lines).as("errors in the log of replica %s", node).noneMatch(l -> l.contains(" ERROR "));
        }
    }

    private List<ChildServer> replicas(int count) throws IOException {
        String url = TestDatabase.POSTGRESQL.fresh().url().orElseThrow();
        for (int i = 0; i < count; i++) {
            String node = String.valueOf((char) ('a' + i));
            servers.add(ChildServer.start(work.resolve("data-" + node), work.resolve(node + ".log"), "--db", url,
                    "--node", node));
        }
        return servers;
    }

    @Test
    void whatIsDecidedThroughAnyReplicaIsServedByAll() throws Exception {
        List<ChildServer> all = replicas(3);
        ChildServer a = all.get(0);
        ChildServer b = all.get(1);
        ChildServer c = all.get(2);

        TestServer.Response first = http.upload(a, Packages.zip(TestModels.echo("iris")), "wait=60");
        assertThat(first.object()).as(first.text()).containsEntry("state", "READY");
        allAnswer(all, "iris", 1L);

        TestServer.Response second = http.upload(a, Packages.zip(TestModels.echo("iris")), "wait=60");
        assertThat(second.object()).as(second.text()).containsEntry("version", 2L).containsEntry("state", "READY");
        allAnswer(all, "iris", 2L);
        Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200)).until(() -> {
            Object replicas = ChildHttp.orElse(() -> http.call(c, "GET", "/api/models/iris").object(), Map.of())
                    .get("replicas");
            return replicas instanceof List<?> list && list.size() == 3 && list.stream().map(TestServer::asMap)
                    .allMatch(r -> "READY".equals(r.get("state")) && Long.valueOf(2).equals(r.get("version"))
                            && Boolean.TRUE.equals(r.get("healthy")) && r.get("port") != null);
        });
        List<Map<String, Object>> replicas = ((List<?>) http.call(c, "GET", "/api/models/iris").object()
                .get("replicas")).stream().map(TestServer::asMap).toList();
        assertThat(replicas).extracting(r -> r.get("node")).containsExactly("a", "b", "c");
        assertThat(replicas).extracting(r -> r.get("port")).doesNotHaveDuplicates();

        TestServer.Response back = http.call(b, "POST", "/api/models/iris/versions/1/activate");
        assertThat(back.status()).as(back.text()).isEqualTo(200);
        allAnswer(all, "iris", 1L);

        assertThat(http.call(c, "POST", "/api/models/iris/stop").status()).isEqualTo(200);
        allRefuse(all, "iris", 503);

        TestServer.Response started = http.call(a, "POST", "/api/models/iris/start");
        assertThat(started.status()).as(started.text()).isEqualTo(200);
        allAnswer(all, "iris", 1L);

        assertThat(http.call(b, "DELETE", "/api/models/iris").status()).isEqualTo(204);
        allRefuse(all, "iris", 404);

        List<Map<String, Object>> events = http.events(a, "iris");
        assertThat(events).extracting(e -> e.get("node")).contains("a", "b", "c");
        assertThat(events).extracting(e -> e.get("kind")).contains("fetched");
    }

    @Test
    void aReplicaKilledDuringAnUploadLosesNothingOnTheOthers() throws Exception {
        List<ChildServer> all = replicas(3);
        ChildServer a = all.get(0);
        ChildServer b = all.get(1);
        ChildServer c = all.get(2);
        assertThat(http.upload(b, Packages.zip(TestModels.echo("wine")), "wait=60").object())
                .containsEntry("state", "READY");
        allAnswer(all, "wine", 1L);

        java.util.Map<String, byte[]> big = new java.util.LinkedHashMap<>(TestModels.echo("wine"));
        byte[] weights = new byte[64 << 20];
        new java.util.Random(1).nextBytes(weights);
        big.put("model/weights.bin", weights);
        byte[] archive = Packages.zip(big);
        java.util.concurrent.CompletableFuture<Object> upload = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> ChildHttp.orElse(() -> http.upload(a, archive, "wait=60"), null));
        Path staging = work.resolve("data-a").resolve("staging");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> bytesUnder(staging) > (1 << 20));
        a.kill();
        upload.join();

        for (ChildServer s : List.of(b, c)) {
            TestServer.Response r = http.post(s.uri("/models/wine/predict"), "3");
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.object()).containsEntry("version", 1L);
            assertThat(http.versions(s, "wine")).extracting(v -> v.get("state")).contains("READY")
                    .doesNotContain("FAILED");
        }
        TestServer.Response again = http.upload(c, archive, "wait=120");
        assertThat(again.object()).as(again.text()).containsEntry("state", "READY");
        long version = ((Number) again.object().get("version")).longValue();
        allAnswer(List.of(b, c), "wine", version);
    }

    private static long bytesUnder(Path folder) {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(folder)) {
            return files.filter(java.nio.file.Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    private void allAnswer(List<ChildServer> all, String model, long version) {
        for (ChildServer s : all) {
            Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(100)).until(() -> {
                TestServer.Response r = ChildHttp.orElse(() -> http.post(s.uri("/models/" + model + "/predict"),
                        "{\"x\": 1}"), null);
                return r != null && r.status() == 200 && Long.valueOf(version).equals(r.object().get("version"));
            });
        }
    }

    private void allRefuse(List<ChildServer> all, String model, int status) {
        for (ChildServer s : all) {
            Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(100)).until(() -> {
                TestServer.Response r = ChildHttp.orElse(() -> http.post(s.uri("/models/" + model + "/predict"),
                        "{\"x\": 1}"), null);
                return r != null && r.status() == status;
            });
        }
    }
}
