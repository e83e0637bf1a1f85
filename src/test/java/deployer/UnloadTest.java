package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A retired cell's class loader is really collected, and a cell that leaks a thread is reported. */
class UnloadTest extends ServerTest {

    static final int CYCLES = 50;

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
                    k -> k.stream().filter("unloaded"::equals).count() >= CYCLES - 1 || k.contains("leaked"));
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
    void cellThatLeavesAThreadRunningIsReportedAsLeaked() throws Exception {
        Map<String, byte[]> leaky = TestModels.prebuilt(work, "{\"name\": \"threader\"}", "Threader", """
                Thread t = new Thread(() -> {
                    long end = System.nanoTime() + 20_000_000_000L;
                    while (System.nanoTime() < end) {
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException deaf) {
                            // ignores interrupts: the kind of thread that keeps a class loader alive
                        }
                    }
                }, "threader-background");
                t.setDaemon(true);
                t.start();
                """, "return 1;", "");
        server.deploy(Packages.zip(leaky));
        server.deploy(Packages.zip(TestModels.echo("threader")));

        Map<String, Object> leaked = Eventually.get(() -> server.get("/api/events?model=threader&limit=100").list()
                .stream().map(TestServer::asMap).filter(e -> "leaked".equals(e.get("kind"))).findFirst()
                .orElse(Map.of()), e -> !e.isEmpty());

        assertThat(leaked).containsEntry("version", 1L);
        assertThat((String) leaked.get("message")).contains("threader-background").contains("still reachable");
    }
}
