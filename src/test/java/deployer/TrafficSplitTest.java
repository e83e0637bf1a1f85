package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Weighted splits between READY versions, pins, and changing a split under load (DESIGN 1.11). */
class TrafficSplitTest extends ServerTest {

    @Test
    void uploadWithActivateFalseServesBesideTheActiveVersion() {
        server.deploy(Packages.zip(TestModels.echo("canary")));
        TrafficFixture t = new TrafficFixture(server);
        Map<String, Object> candidate = t.candidate(TestModels.echo("canary"));
        assertThat(candidate.get("version")).isEqualTo(2L);
        assertThat(candidate.get("active")).isEqualTo(false);
        assertThat(server.get("/api/models").list()).extracting(m -> TestServer.asMap(m).get("version"))
                .containsExactly(1L);
        assertThat(t.predict("canary", null)).isEqualTo(1);
        assertThat(t.predict("canary", "2")).isEqualTo(2);
        assertThat(t.get("canary").get("serving")).isEqualTo(List.of(1L, 2L));
    }

    @Test
    void ninetyTenSplitOverTwoThousandRequestsLandsWithinThreePercent() {
        server.deploy(Packages.zip(TestModels.echo("split")));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(TestModels.echo("split"));
        server.deployer().traffic().random(new Random(20261201));
        TestServer.Response put = t.put("split", "{\"split\": {\"1\": 90, \"2\": 10}}");
        assertThat(put.status()).as(put.text()).isEqualTo(200);
        assertThat(put.object().get("split")).isEqualTo(Map.of("1", 90L, "2", 10L));
        int toTwo = 0;
        for (int i = 0; i < 2000; i++) {
            int v = t.predict("split", null);
            assertThat(v).isIn(1, 2);
            toTwo += v == 2 ? 1 : 0;
        }
        assertThat(toTwo).isBetween(140, 260);
    }

    @Test
    void pinnedRequestsGoToTheirVersionAndAPinOfNoServingVersionIs404() {
        server.deploy(Packages.zip(TestModels.echo("pin")));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(TestModels.echo("pin"));
        assertThat(t.put("pin", "{\"split\": {\"2\": 100}}").status()).isEqualTo(200);
        for (int i = 0; i < 20; i++) {
            assertThat(t.predict("pin", "1")).isEqualTo(1);
            assertThat(t.predict("pin", null)).isEqualTo(2);
        }
        TestServer.Response missing = server.send(HttpRequest.newBuilder(server.uri("/models/pin/predict"))
                .header("X-Deployer-Version", "7").POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.error()).contains("version 7").contains("not serving");
        TestServer.Response bad = server.send(HttpRequest.newBuilder(server.uri("/models/pin/predict"))
                .header("X-Deployer-Version", "two").POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.error()).contains("X-Deployer-Version");
    }

    @Test
    void everyScoringRouteAnswersWithTheVersion() throws Exception {
        Map<String, Object> first = server.deploy(Packages.zip(TestModels.echo("routes")));
        server.post(URI.create(first.get("url") + "/predict"), "{}");
        assertThat(server.lastHeaders().firstValue("X-Deployer-Version")).hasValue("1");
        server.post(server.uri("/v2/models/routes/infer"), "{\"inputs\": [{\"name\": \"x\", \"shape\": [1],"
                + " \"datatype\": \"FP32\", \"data\": [1]}]}");
        assertThat(server.lastHeaders().firstValue("X-Deployer-Version")).hasValue("1");
        server.post(URI.create(first.get("url") + "/v2/models/routes/infer"), "{\"inputs\": [{\"name\": \"x\","
                + " \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}");
        assertThat(server.lastHeaders().firstValue("X-Deployer-Version")).hasValue("1");
    }

    @Test
    void aSplitNamingAVersionNotReadyIs409AndBadWeightsAre400NamingTheField() {
        server.deploy(Packages.zip(TestModels.echo("bad")));
        TrafficFixture t = new TrafficFixture(server);
        TestServer.Response notReady = t.put("bad", "{\"split\": {\"1\": 50, \"2\": 50}}");
        assertThat(notReady.status()).isEqualTo(409);
        assertThat(notReady.error()).contains("version 2").contains("not READY");
        TestServer.Response sum = t.put("bad", "{\"split\": {\"1\": 80, \"2\": 30}}");
        assertThat(sum.status()).isEqualTo(400);
        assertThat(sum.error()).contains("split").contains("110");
        TestServer.Response weight = t.put("bad", "{\"split\": {\"1\": 1.5, \"x\": 3}, \"shadow\": {\"percent\": 0}}");
        assertThat(weight.status()).isEqualTo(400);
        assertThat(weight.error()).contains("split.1").contains("split.x").contains("shadow.version")
                .contains("shadow.percent");
        assertThat(t.get("bad").get("split")).isEqualTo(Map.of());
    }

    @Test
    void aSplitChangeUnderLoadFailsNoRequestAndUsesOnlyVersionsOfTheOldOrNewSplit() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("load")));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(TestModels.echo("load"));
        t.candidate(TestModels.echo("load"));
        assertThat(t.put("load", "{\"split\": {\"2\": 100}}").status()).isEqualTo(200);
        HttpClient http = HttpClient.newHttpClient();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean changed = new AtomicBoolean();
        List<String> failures = new CopyOnWriteArrayList<>();
        List<int[]> seen = new CopyOnWriteArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(3);
        List<Future<?>> loops = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            loops.add(clients.submit(() -> {
                while (running.get()) {
                    boolean after = changed.get();
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri("/models/load/predict"))
                                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("{}"))
                                .build(), HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) {
                            failures.add(r.statusCode() + " " + r.body());
                        } else {
                            seen.add(new int[] {after ? 1 : 0, Integer.parseInt(r.headers()
                                    .firstValue("X-Deployer-Version").orElse("0"))});
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }));
        }
        Eventually.get(seen::size, n -> n > 30);
        TestServer.Response put = t.put("load", "{\"split\": {\"3\": 100}}");
        assertThat(put.status()).as(put.text()).isEqualTo(200);
        changed.set(true);
        int at = seen.size();
        Eventually.get(seen::size, n -> n > at + 30);
        running.set(false);
        for (Future<?> loop : loops) {
            loop.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();
        assertThat(failures).isEmpty();
        assertThat(seen).extracting(s -> s[1]).allMatch(v -> v == 2 || v == 3, "version 2 or 3");
        assertThat(seen).filteredOn(s -> s[0] == 1).extracting(s -> s[1]).containsOnly(3);
        Map<String, Object> model = server.get("/api/models/load").object();
        assertThat(((List<?>) model.get("versions")).stream().map(TestServer::asMap)
                .filter(v -> v.get("version").equals(2L)).findFirst().orElseThrow().get("state"))
                .isEqualTo("RETIRED");
    }

    @Test
    void deletingTheSplitSendsAllToTheActiveVersionAndRetiresTheOthers() {
        server.deploy(Packages.zip(TestModels.echo("clear")));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(TestModels.echo("clear"));
        assertThat(t.put("clear", "{\"split\": {\"2\": 100}}").status()).isEqualTo(200);
        assertThat(t.predict("clear", null)).isEqualTo(2);
        TestServer.Response cleared = t.delete("clear");
        assertThat(cleared.status()).as(cleared.text()).isEqualTo(200);
        assertThat(cleared.object().get("split")).isEqualTo(Map.of());
        assertThat(t.predict("clear", null)).isEqualTo(1);
        Eventually.get(() -> server.get("/api/deployments/" + 2).object().get("state"), "RETIRED"::equals);
    }

    @Test
    void aRestartRestoresTheSplit() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("kept")));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(TestModels.echo("kept"));
        assertThat(t.put("kept", "{\"split\": {\"2\": 100}}").status()).isEqualTo(200);
        server.restart();
        assertThat(t.get("kept").get("split")).isEqualTo(Map.of("2", 100L));
        Eventually.get(() -> t.get("kept").get("serving"), List.of(1L, 2L)::equals);
        for (int i = 0; i < 10; i++) {
            assertThat(t.predict("kept", null)).isEqualTo(2);
        }
        assertThat(t.predict("kept", "1")).isEqualTo(1);
    }
}
