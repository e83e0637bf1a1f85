package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A retired cell's class loader is really collected, and a cell that leaks a thread is reported. */
class UnloadTest extends ServerTest {

    static final int CYCLES = 50;
    /**
     * How long retired loaders may take to go: far past what they need (a few seconds each, the unloader asking for
     * a full collection at most every 2 s), so that a loaded box is not what fails a test. A loader really held is
     * reported {@code leaked} — the unloader says so only once it outlived several full collections — and the waits
     * end at that event.
     */
    static final Duration UNLOAD_BOUND = Duration.ofMinutes(3);

    @Test
    void fiftyDeployRetireCyclesLeaveOnlyTheActiveLoaderAlive() throws Exception {
        Map<String, byte[]> leaky = TestModels.prebuilt(work, "{\"name\": \"cycler\"}", "Cycler", """
                CACHE.put("weights", new byte[1 << 20]);
                java.util.logging.Logger.getLogger("example.cycler").info("loaded version " + context.version());
                """, """
                PER_THREAD.set(new Scratch()); // a class of the cell's own: it holds the cell's loader
                return Map.of("version", context.version(), "cached", CACHE.size());
                """, """
                private static final Map<String, Object> CACHE = new java.util.concurrent.ConcurrentHashMap<>();
                private static final ThreadLocal<Scratch> PER_THREAD = new ThreadLocal<>();
                static final class Scratch {
                    final StringBuilder text = new StringBuilder("scratch");
                }
                """);
        byte[] archive = Packages.zip(leaky);

        // Scoring on the cell's own port all along: there the model's code runs on the port's threads, and leaves a
        // ThreadLocal on each. Busy threads never idle out, so only their renewal after each swap lets the old
        // loaders go.
        Map<String, Object> first = server.deploy(archive);
        assertThat(first).containsEntry("state", "READY");
        java.net.URI cellPort = java.net.URI.create("http://127.0.0.1:" + first.get("port") + "/predict");
        java.util.concurrent.atomic.AtomicBoolean scoring = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> clients = new java.util.ArrayList<>();
        for (int c = 0; c < 4; c++) {
            Thread client = new Thread(() -> {
                while (scoring.get()) {
                    if (server.post(cellPort, "{}").status() == 200) {
                        answered.incrementAndGet();
                    }
                }
            }, "unload-test-client-" + c);
            client.start();
            clients.add(client);
        }
        List<Object> kinds;
        try {
            for (int i = 1; i <= CYCLES; i++) {
                if (i > 1) {
                    assertThat(server.deploy(archive)).containsEntry("state", "READY");
                }
                assertThat(server.predict("cycler", "{}").object()).containsEntry("version", (long) i);
            }
            kinds = Eventually.get(() -> HotSwapTest.kinds(server, "cycler"),
                    k -> k.stream().filter("unloaded"::equals).count() >= CYCLES - 1 || k.contains("leaked"),
                    UNLOAD_BOUND);
        } finally {
            scoring.set(false);
            for (Thread client : clients) {
                client.join();
            }
        }
        assertThat(answered.get()).isPositive();
        assertThat(kinds).doesNotContain("leaked");
        assertThat(kinds.stream().filter("retired"::equals).count()).isEqualTo(CYCLES - 1);
        assertThat(kinds.stream().filter("unloaded"::equals).count()).isEqualTo(CYCLES - 1);
    }

    @Test
    void cellThatLeavesAThreadRunningIsReportedAsLeakedAndItsLateCollectionToo() throws Exception {
        // The thread runs until the test lets it go (or for five minutes at most, should the test fail first).
        java.nio.file.Path release = work.resolve("release-threader");
        Map<String, byte[]> leaky = TestModels.prebuilt(work, "{\"name\": \"threader\"}", "Threader", """
                java.nio.file.Path release = java.nio.file.Path.of("%s");
                Thread t = new Thread(() -> {
                    long end = System.nanoTime() + 300_000_000_000L;
                    while (System.nanoTime() < end && !java.nio.file.Files.exists(release)) {
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException deaf) {
                            // ignores interrupts: the kind of thread that keeps a class loader alive
                        }
                    }
                }, "threader-background");
                t.setDaemon(true);
                t.start();
                """.formatted(release.toString().replace("\\", "\\\\")), "return 1;", "");
        server.deploy(Packages.zip(leaky));
        server.deploy(Packages.zip(TestModels.echo("threader")));

        Map<String, Object> leaked = Eventually.get(() -> event("threader", "leaked"), e -> !e.isEmpty(),
                UNLOAD_BOUND);

        assertThat(leaked).containsEntry("version", 1L);
        assertThat((String) leaked.get("message")).contains("threader-background").contains("still reachable")
                .containsPattern("after close and \\d+ full collections");
        assertThat(event("threader", "unloaded")).as("nothing collected while the thread lives").isEmpty();

        // Once the thread ends, the loader (still watched after its verdict) goes, and that is told too.
        java.nio.file.Files.writeString(release, "go");
        Map<String, Object> late = Eventually.get(() -> event("threader", "unloaded"), e -> !e.isEmpty(),
                UNLOAD_BOUND);
        assertThat(late).containsEntry("version", 1L);
        assertThat((String) late.get("message")).contains("after it was reported leaked");
        assertThat(server.get("/metrics").text()).containsPattern("deployer_cells_unloaded_reachable\\S* 0.0");
    }

    /** The newest event of {@code kind} for {@code model}, or an empty map. */
    private Map<String, Object> event(String model, String kind) {
        return server.get("/api/events?model=" + model + "&limit=100").list().stream().map(TestServer::asMap)
                .filter(e -> kind.equals(e.get("kind"))).findFirst().orElse(Map.of());
    }
}
