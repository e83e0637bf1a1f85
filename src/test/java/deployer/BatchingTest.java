package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Dynamic batching through the server (DESIGN 1.10): what the model sees under concurrent clients, a lone request,
 * a bad input among good ones, and hot swaps under batched load.
 */
class BatchingTest extends ServerTest {

    /**
     * A model whose {@code scoreBatch} answers each input with the size of the batch it came in, after a little work
     * per call (so that requests pile up behind it); {@code prepare} refuses the input "bad".
     */
    static Map<String, byte[]> batching(String name, int maxBatch, long maxDelayMs) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", TestModels.bytes("{\"name\": \"" + name + "\", \"entry\": \"example.Batched\","
                + " \"batching\": {\"max_batch_size\": " + maxBatch + ", \"max_delay_ms\": " + maxDelayMs + "},"
                + " \"limits\": {\"max_concurrent\": 256}}"));
        files.put("serving/Batched.java", TestModels.bytes(TestModels.script("Batched", "",
                "return scoreBatch(List.of(input)).get(0);", """
                    @Override
                    public Object prepare(Request request) throws Exception {
                        Object input = request.json();
                        if ("bad".equals(input)) {
                            throw new IllegalArgumentException("bad input");
                        }
                        return input;
                    }

                    @Override
                    public List<Object> scoreBatch(List<Object> inputs) throws Exception {
                        long until = System.nanoTime() + 2_000_000;
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                        List<Object> out = new ArrayList<>();
                        for (Object in : inputs) {
                            out.add(Map.of("echo", in, "batch", inputs.size(), "version", context.version()));
                        }
                        return out;
                    }
                """)));
        return files;
    }

    private URI predict(String model) {
        return server.uri("/models/" + model + "/predict");
    }

    @Test
    void concurrentClientsAreScoredInBatchesNoLargerThanTheMaximum() throws Exception {
        assertThat(server.deploy(Packages.zip(batching("b", 8, 5)))).containsEntry("state", "READY");
        ExecutorService clients = Executors.newFixedThreadPool(32);
        ConcurrentLinkedQueue<Long> sizes = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int c = 0; c < 32; c++) {
            int client = c;
            done.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 20; i++) {
                    int input = client * 100 + i;
                    TestServer.Response r = server.post(predict("b"), Integer.toString(input));
                    assertThat(r.status()).as(r.text()).isEqualTo(200);
                    assertThat(r.object()).containsEntry("echo", (long) input);
                    sizes.add((Long) r.object().get("batch"));
                }
            }, clients));
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get();
        clients.shutdown();
        assertThat(sizes).hasSize(32 * 20).allMatch(size -> size >= 1 && size <= 8);
        assertThat(sizes).as("some requests shared a call of the model").anyMatch(size -> size > 1);
        String metrics = server.get("/metrics").text();
        assertThat(metrics).contains("deployer_batch_size_count{model=\"b\",version=\"1\"}")
                .contains("deployer_batch_queue_wait_seconds_count{model=\"b\",version=\"1\"}");
    }

    @Test
    void aLoneRequestIsScoredAtOnceAloneWhateverTheDelay() {
        // A minute of max_delay: a lone request that waited for company would time out (limits.timeout_ms 10 s).
        assertThat(server.deploy(Packages.zip(batching("lone", 32, 60_000)))).containsEntry("state", "READY");
        for (int i = 0; i < 3; i++) {
            TestServer.Response r = server.predict("lone", "7");
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.object()).containsEntry("batch", 1L).containsEntry("echo", 7L);
        }
    }

    @Test
    void aBadInputFailsAloneAndNeverEntersABatch() throws Exception {
        assertThat(server.deploy(Packages.zip(batching("mixed", 16, 5)))).containsEntry("state", "READY");
        ExecutorService clients = Executors.newFixedThreadPool(16);
        List<CompletableFuture<TestServer.Response>> answers = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            String body = i % 8 == 3 ? "\"bad\"" : Integer.toString(i);
            answers.add(CompletableFuture.supplyAsync(() -> server.post(predict("mixed"), body), clients));
        }
        for (int i = 0; i < 64; i++) {
            TestServer.Response r = answers.get(i).get();
            if (i % 8 == 3) {
                assertThat(r.status()).isEqualTo(400);
                assertThat(r.error()).contains("bad input");
            } else {
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                assertThat(r.object()).containsEntry("echo", (long) i);
            }
        }
        clients.shutdown();
    }

    @Test
    void hotSwapsUnderBatchedLoadFailNoRequest() throws Exception {
        assertThat(server.deploy(Packages.zip(batching("swap", 8, 2)))).containsEntry("state", "READY");
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger answered = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ExecutorService clients = Executors.newFixedThreadPool(16);
        List<CompletableFuture<Void>> load = new ArrayList<>();
        for (int c = 0; c < 16; c++) {
            load.add(CompletableFuture.runAsync(() -> {
                while (running.get()) {
                    TestServer.Response r = server.post(predict("swap"), "1");
                    if (r.status() == 200) {
                        answered.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                        failures.add(r.status() + " " + r.text());
                    }
                }
            }, clients));
        }
        for (int v = 2; v <= 6; v++) {
            Map<String, Object> d = server.deploy(Packages.zip(batching("swap", 8, 2)));
            assertThat(d).containsEntry("state", "READY").containsEntry("version", (long) v);
        }
        running.set(false);
        CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get();
        clients.shutdown();
        assertThat(failures).as("failed requests across five swaps").isEmpty();
        assertThat(failed.get()).isZero();
        assertThat(answered.get()).isPositive();
        assertThat(server.predict("swap", "1").object()).containsEntry("version", 6L);
    }
}
