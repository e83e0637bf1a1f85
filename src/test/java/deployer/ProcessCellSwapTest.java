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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A process model hot-swapped under load: each new child is started and checked before traffic moves to it. */
class ProcessCellSwapTest extends ServerTest {

    static final int SWAPS = 20;

    @Test
    void twentySwapsUnderLoadFailNoRequestAndLeaveOneChild() throws Exception {
        Map<String, Object> first = server.deploy(Packages.zip(ProcessCellTest.mortal("swapped", 64)));
        URI own = URI.create(first.get("url") + "/predict");
        URI gateway = server.uri("/models/swapped/predict");
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicLong answered = new AtomicLong();
        AtomicLong newestSeen = new AtomicLong();
        ExecutorService clients = Executors.newFixedThreadPool(2);
        List<Future<?>> loops = new ArrayList<>();
        for (URI target : List.of(own, gateway)) {
            loops.add(clients.submit(() -> hammer(target, running, failures, answered, newestSeen)));
        }
        List<Long> pids = new ArrayList<>(List.of((Long) first.get("pid")));
        for (int swap = 0; swap < SWAPS; swap++) {
            Map<String, Object> d = server.deploy(Packages.zip(ProcessCellTest.mortal("swapped", 64)));
            assertThat(d).as(d.toString()).containsEntry("state", "READY");
            pids.add((Long) d.get("pid"));
        }
        long before = answered.get();
        Eventually.get(answered::get, n -> n > before + 10);
        running.set(false);
        for (Future<?> loop : loops) {
            loop.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();

        assertThat(failures).isEmpty();
        assertThat(answered.get()).isGreaterThan(SWAPS);
        assertThat(newestSeen.get()).isEqualTo(SWAPS + 1L);
        long last = pids.get(pids.size() - 1);
        assertThat(pids).doesNotHaveDuplicates();
        // Every replaced child goes once its requests have drained; only the newest is left.
        for (long pid : pids.subList(0, pids.size() - 1)) {
            Eventually.get(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
        }
        assertThat(ProcessHandle.of(last).map(ProcessHandle::isAlive)).hasValue(true);
    }

    private static void hammer(URI target, AtomicBoolean running, List<String> failures, AtomicLong answered,
                               AtomicLong newestSeen) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        while (running.get()) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"n\": 1}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    failures.add(target + " -> " + r.statusCode() + " " + r.body());
                    if (failures.size() > 100) {
                        return;
                    }
                    continue;
                }
                answered.incrementAndGet();
                long version = ((Number) new TestServer.Response(200, r.body()).object().get("version")).longValue();
                newestSeen.accumulateAndGet(version, Math::max);
            } catch (Exception e) {
                failures.add(target + " -> " + e);
                if (failures.size() > 100) {
                    return;
                }
            }
        }
    }
}
