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
    /** The replicas' node names, one per server started (a node started again is named again). */
    final java.util.Set<String> nodes = new java.util.TreeSet<>();
    private String databaseUrl;

    @AfterEach
    void stop() throws Exception {
        for (ChildServer s : servers) {
            s.close();
        }
        for (String node : nodes) {
            List<String> lines = java.nio.file.Files.readAllLines(work.resolve(node + ".log"));
            lines.stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ") || l.contains("Exception"))
                    .forEach(l -> System.out.println(node + ": " + l));
            assertThat(lines).as("errors in the log of replica %s", node).noneMatch(l -> l.contains(" ERROR "));
        }
    }

    private List<ChildServer> replicas(int count) throws IOException {
        return replicas(count, Map.of());
    }

    /** {@code count} replicas a, b, c …; {@code env} gives a node's extra environment variables. */
    private List<ChildServer> replicas(int count, Map<String, Map<String, String>> env) throws IOException {
        databaseUrl = TestDatabase.POSTGRESQL.fresh().url().orElseThrow();
        for (int i = 0; i < count; i++) {
            replica(String.valueOf((char) ('a' + i)), env.getOrDefault(String.valueOf((char) ('a' + i)), Map.of()));
        }
        return servers;
    }

    /** Starts (or starts again) replica {@code node} on the test's database, its own data folder and log. */
    private ChildServer replica(String node, Map<String, String> env) throws IOException {
        nodes.add(node);
        ChildServer server = ChildServer.start(work.resolve("data-" + node), work.resolve(node + ".log"), env,
                "--db", databaseUrl, "--node", node);
        servers.add(server);
        return server;
    }

    @Test
    void whatIsDecidedThroughAnyReplicaIsServedByAll() throws Exception {
        List<ChildServer> all = replicas(3);
        ChildServer a = all.get(0);
        ChildServer b = all.get(1);
        ChildServer c = all.get(2);

        // both versions carry the same jar: each replica keeps it once, however it got the version
        Map<String, byte[]> withJar = new java.util.LinkedHashMap<>(TestModels.echo("iris"));
        byte[] weights = new byte[3 << 20];
        new java.util.Random(3).nextBytes(weights);
        byte[] jar = Packages.zip(Map.of("weights.bin", weights));
        withJar.put("lib/weights.jar", jar);
        TestServer.Response first = http.upload(a, Packages.zip(withJar), "wait=60");
        assertThat(first.object()).as(first.text()).containsEntry("state", "READY");
        allAnswer(all, "iris", 1L);

        TestServer.Response second = http.upload(a, Packages.zip(withJar), "wait=60");
        assertThat(second.object()).as(second.text()).containsEntry("version", 2L).containsEntry("state", "READY");
        allAnswer(all, "iris", 2L);
        for (String node : List.of("a", "b", "c")) {
            Path data = work.resolve("data-" + node);
            List<Path> kept;
            try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(data.resolve("libs"))) {
                kept = files.toList();
            }
            assertThat(kept).as("jars kept by replica %s", node).hasSize(1);
            assertThat(java.nio.file.Files.readAllBytes(kept.get(0))).isEqualTo(jar);
            for (TestServer.Response version : List.of(first, second)) {
                Path linked = data.resolve("models/iris/" + version.object().get("deploy_id") + "/lib/weights.jar");
                assertThat(java.nio.file.Files.isSameFile(linked, kept.get(0)))
                        .as("%s on replica %s is the kept jar", linked, node).isTrue();
            }
        }
        assertThat(http.events(b, "iris")).filteredOn(e -> "fetched".equals(e.get("kind")) && "b".equals(e.get("node")))
                .extracting(e -> (String) e.get("message"))
                .anyMatch(m -> m.contains("1 jar(s), 3.0 MiB, of which 0.0 MiB kept here already"))
                .anyMatch(m -> m.contains("1 jar(s), 3.0 MiB, of which 3.0 MiB kept here already"));
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

    @Test
    void aTrafficSplitSetThroughOneReplicaIsServedByTheOtherAndItsRemovalByAll() throws Exception {
        // B pings (and looks at its models' payload settings) often, so it has looked before A takes the PUT below
        List<ChildServer> all = replicas(2, Map.of("b", Map.of("DEPLOYER_PING_INTERVAL_MS", "200")));
        ChildServer a = all.get(0);
        ChildServer b = all.get(1);
        assertThat(http.upload(a, Packages.zip(TestModels.echo("iris")), "wait=60").object())
                .containsEntry("state", "READY");
        TestServer.Response candidate = http.upload(a, Packages.zip(TestModels.echo("iris")),
                "activate=false&wait=60");
        assertThat(candidate.object()).as(candidate.text()).containsEntry("version", 2L)
                .containsEntry("state", "READY");
        allAnswer(all, "iris", 1L);

        TestServer.Response set = traffic(a, "PUT", "{\"split\": {\"2\": 50}}");
        assertThat(set.status()).as(set.text()).isEqualTo(200);
        // Through B, which did not take the PUT: both versions answer, each saying which it is.
        for (ChildServer s : all) {
            Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(100))
                    .until(() -> versionsAnswering(s, "iris", 40), v -> v.containsAll(List.of(1L, 2L)));
        }
        assertThat(traffic(b, "GET", null).object().get("split")).isEqualTo(Map.of("2", 50L));

        TestServer.Response cleared = traffic(b, "DELETE", null);
        assertThat(cleared.status()).as(cleared.text()).isEqualTo(200);
        // Through A, which did not take the DELETE: only the active version answers, and version 2 is retired.
        for (ChildServer s : all) {
            Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(100))
                    .until(() -> pinned(s, "iris", 2).status() == 404
                            && versionsAnswering(s, "iris", 40).equals(java.util.Set.of(1L)));
        }
        assertThat(http.versions(a, "iris")).filteredOn(v -> Long.valueOf(2).equals(v.get("version")))
                .extracting(v -> v.get("state")).containsExactly("RETIRED");

        // Payload records asked for through A are kept by B too, of what B serves, redacted as asked.
        TestServer.Response payloads = http.send(java.net.http.HttpRequest.newBuilder(
                a.uri("/api/models/iris/payloads")).header("Authorization", "Bearer " + TestServer.TOKEN)
                .header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"sample\": 1, \"redact\": [\"ssn\"]}")));
        assertThat(payloads.status()).as(payloads.text()).isEqualTo(200);
        List<Object> recorded = Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    http.post(b.uri("/models/iris/predict"), "{\"ssn\": \"123-45-6789\"}");
                    return http.call(b, "GET", "/api/models/iris/payloads?limit=5").list();
                }, r -> !r.isEmpty());
        assertThat(TestServer.asMap(recorded.get(0)).get("request")).isEqualTo(Map.of("ssn", "***"));
    }

    @Test
    void aReplicaKilledMidStartIsShownGoneByTheOthersAndReconcilesWhenItComesBack() throws Exception {
        // Then b, started again, decides an upload of its own and is killed in its load(): a fails that version
        // (nobody else would ever end its start), and can start it itself.
        // Replica b's cells hold in load() while this file exists: b is STARTING when it is killed.
        Path hold = java.nio.file.Files.createFile(work.resolve("hold"));
        List<ChildServer> all = replicas(2, Map.of("b", Map.of("DEPLOYER_TEST_HOLD", hold.toString())));
        ChildServer a = all.get(0);
        ChildServer b = all.get(1);
        Map<String, byte[]> holding = TestModels.scripted("wine", "Holding", """
                String hold = System.getenv("DEPLOYER_TEST_HOLD");
                while (hold != null && java.nio.file.Files.exists(java.nio.file.Path.of(hold))) {
                    Thread.sleep(20);
                }
                """, "return Map.of(\"version\", context.version());");
        assertThat(http.upload(a, Packages.zip(holding), "wait=60").object()).containsEntry("state", "READY");
        Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> replicaStates(a, "wine"), r -> "STARTING".equals(r.get("b")) && "READY".equals(r.get("a")));

        b.kill();
        Map<String, Object> gone = Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> replica(a, "wine", "b"), r -> "GONE".equals(r.get("state")));
        assertThat(gone).containsEntry("healthy", false);
        assertThat(replica(a, "wine", "a")).containsEntry("state", "READY").containsEntry("healthy", true);

        // Started again under the same name (nothing holds it now), b drops what it left and reports what it serves.
        java.nio.file.Files.delete(hold);
        ChildServer back = replica("b", Map.of("DEPLOYER_TEST_HOLD", hold.toString()));
        Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> replica(a, "wine", "b"), r -> "READY".equals(r.get("state"))
                        && Boolean.TRUE.equals(r.get("healthy")));
        allAnswer(List.of(a, back), "wine", 1L);

        // Version 2 through b, the server deciding its start, which holds in its load() and is killed there.
        java.nio.file.Files.createFile(hold);
        TestServer.Response upload = http.upload(back, Packages.zip(holding), null);
        assertThat(upload.object()).as(upload.text()).containsEntry("version", 2L);
        Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> http.events(a, "wine"), events -> events.stream().anyMatch(e -> "loading".equals(
                        e.get("kind")) && Long.valueOf(2).equals(e.get("version")) && "b".equals(e.get("node"))));
        back.kill();
        Map<String, Object> failed = Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> version(a, "wine", 2), v -> "FAILED".equals(v.get("state")));
        assertThat((String) failed.get("error")).contains("(node b) stopped before it was READY",
                "POST /api/models/wine/versions/2/activate");
        assertThat(http.events(a, "wine")).filteredOn(e -> "failed".equals(e.get("kind"))
                && Long.valueOf(2).equals(e.get("version"))).singleElement()
                .satisfies(e -> assertThat(e).containsEntry("node", "a"));
        allAnswer(List.of(a), "wine", 1L);

        // a starts it again: nothing holds a's load().
        TestServer.Response activated = http.call(a, "POST", "/api/models/wine/versions/2/activate?wait=60");
        assertThat(activated.object()).as(activated.text()).containsEntry("state", "READY");
        allAnswer(List.of(a), "wine", 2L);

        // Alone now (a is killed too, so no other replica fails it first), b decides version 3, is killed before it
        // is READY (held: its cell of version 2 holds in load() ahead of it), and started again fails it at once.
        a.kill();
        ChildServer alone = replica("b", Map.of("DEPLOYER_TEST_HOLD", hold.toString()));
        TestServer.Response third = http.upload(alone, Packages.zip(holding), null);
        assertThat(third.object()).as(third.text()).containsEntry("version", 3L).containsEntry("state", "STARTING");
        alone.kill();
        java.nio.file.Files.delete(hold);
        ChildServer again = replica("b", Map.of());
        // Only b's own start fails it: its sweep leaves its own rows alone, and no other replica runs.
        Awaitility.await().atMost(FOLLOWS_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> version(again, "wine", 3), v -> "FAILED".equals(v.get("state")));
        assertThat(http.events(again, "wine")).filteredOn(e -> "failed".equals(e.get("kind"))
                && Long.valueOf(3).equals(e.get("version"))).singleElement()
                .satisfies(e -> assertThat(e).containsEntry("node", "b")
                        .extractingByKey("message").asString().contains("(node b) stopped", "started again"));
        allAnswer(List.of(again), "wine", 2L);
    }

    private Map<String, Object> version(ChildServer server, String model, int version) throws IOException {
        return http.versions(server, model).stream().filter(v -> Long.valueOf(version).equals(v.get("version")))
                .findFirst().orElse(Map.of());
    }

    private TestServer.Response traffic(ChildServer server, String method, String json) throws IOException {
        return http.send(java.net.http.HttpRequest.newBuilder(server.uri("/api/models/iris/traffic"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).header("Content-Type", "application/json")
                .method(method, json == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                        : java.net.http.HttpRequest.BodyPublishers.ofString(json)));
    }

    private TestServer.Response pinned(ChildServer server, String model, int version) throws IOException {
        return http.send(java.net.http.HttpRequest.newBuilder(server.uri("/models/" + model + "/predict"))
                .header("Content-Type", "application/json").header("X-Deployer-Version", Integer.toString(version))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"x\": 1}")));
    }

    /** The versions that answered {@code count} requests through the gateway (a failed request answers none). */
    private java.util.Set<Long> versionsAnswering(ChildServer server, String model, int count) {
        java.util.Set<Long> versions = new java.util.TreeSet<>();
        for (int i = 0; i < count; i++) {
            TestServer.Response r = ChildHttp.orElse(() -> http.post(server.uri("/models/" + model + "/predict"),
                    "{\"x\": 1}"), null);
            if (r == null || r.status() != 200) {
                return java.util.Set.of();
            }
            versions.add(((Number) r.object().get("version")).longValue());
        }
        return versions;
    }

    /** Node to state, as {@code server} shows the model's replicas. */
    private Map<String, Object> replicaStates(ChildServer server, String model) throws IOException {
        Map<String, Object> states = new java.util.TreeMap<>();
        Object replicas = http.call(server, "GET", "/api/models/" + model).object().get("replicas");
        if (replicas instanceof List<?> list) {
            list.stream().map(TestServer::asMap).forEach(r -> states.put((String) r.get("node"), r.get("state")));
        }
        return states;
    }

    private Map<String, Object> replica(ChildServer server, String model, String node) throws IOException {
        Object replicas = http.call(server, "GET", "/api/models/" + model).object().get("replicas");
        return replicas instanceof List<?> list ? list.stream().map(TestServer::asMap)
                .filter(r -> node.equals(r.get("node"))).findFirst().orElse(Map.of()) : Map.of();
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
