package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/** Shadow scoring, health of the versions in a split, and payload records (DESIGN 1.11). */
class TrafficShadowTest extends ServerTest {

    /** A model whose version 2 waits (at most 30 s) for {@code gate} to exist before it answers. */
    private static Map<String, byte[]> gated(String name, Path gate) {
        String path = gate.toString().replace("\\", "\\\\");
        return TestModels.scripted(name, "Gated", "",
                "if (context.version() == 2) { long end = System.nanoTime() + 30_000_000_000L;"
                        + " while (!java.nio.file.Files.exists(java.nio.file.Path.of(\"" + path + "\"))"
                        + " && System.nanoTime() < end) { Thread.sleep(20); } }"
                        + " return Map.of(\"echo\", input == null ? \"null\" : input);");
    }

    /** A model whose version 2 is unhealthy while {@code sick} exists. */
    private static Map<String, byte[]> sickly(String name, Path sick) {
        String path = sick.toString().replace("\\", "\\\\");
        return TestModels.scripted(name, "Sickly", "", "return Map.of(\"version\", context.version());",
                "@Override public boolean healthy() { return context.version() != 2"
                        + " || !java.nio.file.Files.exists(java.nio.file.Path.of(\"" + path + "\")); }");
    }

    @Test
    void shadowNeverChangesTheAnswerAndCountsAgreement() {
        server.deploy(Packages.zip(TrafficFixture.same("mirror")));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(TestModels.echo("mirror"));
        TestServer.Response put = t.put("mirror", "{\"shadow\": {\"version\": 2, \"percent\": 100}}");
        assertThat(put.status()).as(put.text()).isEqualTo(200);
        for (int i = 0; i < 10; i++) {
            TestServer.Response r = server.predict("mirror", "{\"i\": " + i + "}");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.object()).isEqualTo(Map.of("echo", Map.of("i", (long) i)));
            assertThat(server.lastHeaders().firstValue("X-Deployer-Version")).hasValue("1");
        }
        // The echo of version 2 adds its version: every copy differs, and the pairs are shown.
        Map<String, Object> outcomes = TestServer.asMap(Eventually.get(() -> t.get("mirror").get("shadow_outcomes"),
                o -> (Long) TestServer.asMap(o).get("different") == 10L));
        assertThat(outcomes.get("same")).isEqualTo(0L);
        List<?> differences = (List<?>) t.get("mirror").get("differences");
        assertThat(differences).isNotEmpty();
        assertThat(TestServer.asMap(differences.get(0)).get("shadow_reply").toString()).contains("\"version\":2");
        String metrics = server.send(HttpRequest.newBuilder(server.uri("/metrics")).GET()).text();
        assertThat(metrics).contains("deployer_shadow_total{model=\"mirror\",outcome=\"different\",version=\"2\"}"
                + " 10.0");
    }

    @Test
    void aShadowThatHangsDoesNotHoldRealRequests() throws Exception {
        Path gate = work.resolve("gate");
        server.deploy(Packages.zip(gated("slow", gate)));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(gated("slow", gate));
        assertThat(t.put("slow", "{\"shadow\": {\"version\": 2, \"percent\": 100}}").status()).isEqualTo(200);
        for (int i = 0; i < 20; i++) {
            assertThat(server.predict("slow", "{\"i\": " + i + "}").status()).isEqualTo(200);
        }
        // Every real answer came while no shadow copy had finished: they did not wait for it.
        Map<String, Object> during = TestServer.asMap(t.get("slow").get("shadow_outcomes"));
        assertThat((Long) during.get("same") + (Long) during.get("different") + (Long) during.get("error"))
                .isZero();
        Files.createFile(gate);
        Eventually.get(() -> TestServer.asMap(t.get("slow").get("shadow_outcomes")),
                o -> (Long) o.get("same") + (Long) o.get("dropped") == 20L);
    }

    @Test
    void aVersionInTheSplitThatFailsItsPingsLosesItsShareAndGetsItBack() throws Exception {
        server.close();
        server = TestServer.start(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any())
                .withToken(TestServer.TOKEN).withPingIntervalMs(100).withPingFailures(2));
        Path sick = work.resolve("sick");
        server.deploy(Packages.zip(sickly("sick", sick)));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(sickly("sick", sick));
        assertThat(t.put("sick", "{\"split\": {\"2\": 100}}").status()).isEqualTo(200);
        assertThat(t.predict("sick", null)).isEqualTo(2);
        Files.createFile(sick);
        Eventually.get(() -> t.get("sick").get("down"), List.of(2L)::equals);
        for (int i = 0; i < 10; i++) {
            assertThat(t.predict("sick", null)).isEqualTo(1);
        }
        assertThat(server.get("/api/events?model=sick").list()).extracting(e -> TestServer.asMap(e).get("kind"))
                .contains("traffic");
        Files.delete(sick);
        Eventually.get(() -> t.get("sick").get("down"), List.of()::equals);
        assertThat(t.predict("sick", null)).isEqualTo(2);
    }

    @Test
    void payloadRecordsAreRedactedBeforeTheyAreWrittenAndReadNewestFirst() throws Exception {
        server.deploy(Packages.zip(TrafficFixture.same("records")));
        TrafficFixture t = new TrafficFixture(server);
        TestServer.Response bad = t.putPayloads("records", "{\"sample\": 2, \"redact\": [1]}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.error()).contains("sample").contains("redact[0]");
        TestServer.Response put = t.putPayloads("records", "{\"sample\": 1, \"redact\": [\"ssn\"]}");
        assertThat(put.status()).as(put.text()).isEqualTo(200);
        for (int i = 0; i < 3; i++) {
            assertThat(server.predict("records", "{\"ssn\": \"123-45-6789\", \"i\": " + i + "}").status())
                    .isEqualTo(200);
        }
        // A record is handed on once its answer is written, which the client may read first: wait for all three.
        Eventually.get(() -> {
            server.deployer().traffic().flushPayloads();
            return server.get("/api/models/records/payloads?limit=10").list().size();
        }, n -> n == 3);
        Path folder = data.resolve("payloads").resolve("records");
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.toList()) {
                assertThat(Files.readString(f)).doesNotContain("123-45-6789").contains("\"ssn\":\"***\"");
            }
        }
        List<Object> records = server.get("/api/models/records/payloads?limit=2").list();
        assertThat(records).hasSize(2);
        Map<String, Object> newest = TestServer.asMap(records.get(0));
        assertThat(newest.keySet()).containsExactly("time", "version", "request", "reply", "status", "ms");
        assertThat(newest.get("request")).isEqualTo(Map.of("ssn", "***", "i", 2L));
        assertThat(newest.get("reply")).isEqualTo(Map.of("echo", Map.of("ssn", "***", "i", 2L)));
        assertThat(newest.get("status")).isEqualTo(200L);
        assertThat(TestServer.asMap(records.get(1)).get("request")).isEqualTo(Map.of("ssn", "***", "i", 1L));

        // Deleting the model takes its records with it: nothing of it is left in the data folder.
        TestServer.Response deleted = server.send(HttpRequest.newBuilder(server.uri("/api/models/records"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
        assertThat(deleted.status()).as(deleted.text()).isEqualTo(204);
        Eventually.get(() -> {
            server.deployer().traffic().flushPayloads();
            return Files.exists(folder);
        }, exists -> !exists);
    }

    @Test
    void payloadsInDeployJsonAreValidatedAndRecorded() throws Exception {
        server.close();
        server = TestServer.start(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any())
                .withToken(TestServer.TOKEN).withPingIntervalMs(100));
        Map<String, byte[]> bad = TrafficFixture.same("sampled");
        bad.put("deploy.json", TestModels.bytes("{\"name\": \"sampled\", \"entry\": \"example.Same\","
                + " \"payloads\": {\"sample\": 5}}"));
        TestServer.Response refused = server.upload(Packages.zip(bad), "wait=60");
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.error()).contains("payloads.sample");
        Map<String, byte[]> good = TrafficFixture.same("sampled");
        good.put("deploy.json", TestModels.bytes("{\"name\": \"sampled\", \"entry\": \"example.Same\","
                + " \"payloads\": {\"sample\": 1, \"redact\": [\"pin\"]}}"));
        server.deploy(Packages.zip(good));
        List<Object> records = Eventually.get(() -> {
            server.predict("sampled", "{\"pin\": 1234}");
            server.deployer().traffic().flushPayloads();
            return server.get("/api/models/sampled/payloads").list();
        }, r -> !r.isEmpty());
        assertThat(TestServer.asMap(records.get(0)).get("request")).isEqualTo(Map.of("pin", "***"));
    }
}
