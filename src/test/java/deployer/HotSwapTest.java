package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Gates;
import deployer.testing.Packages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** New versions swap in under load without a dropped request; a failing one never serves. */
class HotSwapTest extends ServerTest {

    static final int CLIENTS = 4;

    /** One answer a client saw: when it asked (nanoTime) and which version answered. */
    record Seen(long askedAt, long version) {
    }

    @Test
    void tenSwapsUnderLoadDropNoRequestAndOnlyReadyVersionsAnswer() throws Exception {
        Map<String, Object> first = server.deploy(Packages.zip(good()));
        URI predict = URI.create(first.get("url") + "/predict");
        URI gateway = server.uri("/models/swapper/predict");
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> failures = new CopyOnWriteArrayList<>();
        List<List<Seen>> seen = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> loops = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            // written by its client thread, counted by this one while the swaps run
            List<Seen> mine = Collections.synchronizedList(new ArrayList<>());
            seen.add(mine);
            URI target = i % 2 == 0 ? predict : gateway;
            loops.add(clients.submit(() -> hammer(target, running, mine, failures)));
        }

        Set<Long> goodVersions = ConcurrentHashMap.newKeySet();
        goodVersions.add(1L);
        Map<Long, Long> readyAt = new ConcurrentHashMap<>();
        readyAt.put(1L, 0L);
        for (int swap = 0; swap < 10; swap++) {
            boolean fails = swap % 2 == 1;
            Map<String, Object> d = server.deploy(Packages.zip(fails ? failing() : good()));
            long version = (Long) d.get("version");
            assertThat(d.get("state")).isEqualTo(fails ? "FAILED" : "READY");
            if (!fails) {
                goodVersions.add(version);
                readyAt.put(version, System.nanoTime());
            }
        }
        int beforeStop = seen.stream().mapToInt(List::size).sum();
        Eventually.get(() -> seen.stream().mapToInt(List::size).sum(), n -> n > beforeStop + CLIENTS * 5);
        running.set(false);
        for (Future<?> loop : loops) {
            loop.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();

        assertThat(failures).isEmpty();
        long lastGood = goodVersions.stream().mapToLong(Long::longValue).max().orElseThrow();
        for (List<Seen> answers : seen) {
            assertThat(answers).isNotEmpty();
            assertThat(answers).extracting(Seen::version).allMatch(goodVersions::contains, "a READY version");
            for (int i = 1; i < answers.size(); i++) {
                assertThat(answers.get(i).version()).isGreaterThanOrEqualTo(answers.get(i - 1).version());
            }
            // Anything asked after version v was reported READY is answered by v or a later one.
            for (Seen answer : answers) {
                long newestReadyBefore = readyAt.entrySet().stream().filter(e -> e.getValue() < answer.askedAt())
                        .mapToLong(Map.Entry::getKey).max().orElse(1L);
                assertThat(answer.version()).isGreaterThanOrEqualTo(newestReadyBefore);
            }
            assertThat(answers.get(answers.size() - 1).version()).isEqualTo(lastGood);
        }
    }

    private static void hammer(URI target, AtomicBoolean running, List<Seen> seen, List<String> failures) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        while (running.get()) {
            long asked = System.nanoTime();
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(target)
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"n\": 1}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    failures.add(target + " -> " + r.statusCode() + " " + r.body());
                    continue;
                }
                Map<String, Object> body = new TestServer.Response(200, r.body()).object();
                seen.add(new Seen(asked, (Long) body.get("version")));
            } catch (Exception e) {
                failures.add(target + " -> " + e);
            }
        }
    }

    @Test
    void theOldCellFinishesItsInFlightRequestBeforeItCloses() throws Exception {
        Path gate = work.resolve("gate");
        String manifest = "{\"name\": \"slowpoke\", \"properties\": {\"gate\": \"" + gate + "\"}}";
        server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Slow", "", """
                if ("wait".equals(input))
                """ + Gates.awaitSource("gate") + """
                return Map.of("version", context.version());
                """, "")));
        ExecutorService client = Executors.newSingleThreadExecutor();
        Future<TestServer.Response> inFlight = client.submit(() -> server.predict("slowpoke", "\"wait\""));
        Gates.awaitEntered(gate);

        Map<String, Object> v2 = server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Slow", "",
                "return Map.of(\"version\", context.version());", "")));
        assertThat(v2).containsEntry("state", "READY");
        assertThat(server.predict("slowpoke", "\"now\"").object()).containsEntry("version", 2L);
        assertThat(inFlight.isDone()).isFalse();

        Gates.open(gate);
        TestServer.Response r = inFlight.get(30, TimeUnit.SECONDS);
        client.shutdown();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.object()).containsEntry("version", 1L);
        Eventually.get(() -> kinds(server, "slowpoke"), k -> k.contains("retired"));
    }

    static List<Object> kinds(TestServer server, String model) {
        return server.get("/api/events?model=" + model + "&limit=1000").list().stream()
                .map(e -> (Object) TestServer.asMap(e).get("kind")).toList();
    }

    private static Map<String, byte[]> good() {
        return TestModels.echo("swapper");
    }

    private static Map<String, byte[]> failing() {
        return TestModels.scripted("swapper", "Failing", "throw new IllegalStateException(\"broken build\");",
                "return 0;");
    }

}
