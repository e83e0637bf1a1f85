package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Models that misbehave fail their own requests or their own deploy, and nothing else: the server and every other
 * cell keep answering. (A model whose score throws: {@link DeployFailureTest}; System.exit: {@link ExitGuardTest}.)
 */
class MisbehavingModelTest extends ServerTest {

    @BeforeEach
    void deploySteady() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("steady")));
    }

    @Test
    void replyThatRefersToItselfAnswers500AndTheCellKeepsServing() {
        server.deploy(Packages.zip(TestModels.scripted("loop", "Loop", "", """
                if ("ok".equals(input)) {
                    return "fine";
                }
                Map<String, Object> self = new HashMap<>();
                self.put("me", self);
                return self;
                """)));

        TestServer.Response r = server.predict("loop", "{}");

        assertThat(r.status()).isEqualTo(500);
        assertThat(r.error()).contains("loop v1").contains("cannot be written as JSON");
        assertThat(server.predict("loop", "\"ok\"").text()).isEqualTo("\"fine\"");
        assertThat(server.predict("steady", "1").status()).isEqualTo(200);
    }

    @Test
    void replyWithAGetterThatThrowsAnswers500NamingTheModel() {
        server.deploy(Packages.zip(TestModels.scripted("getter", "Getter", "", "return new Trap();", """
                public static class Trap {
                    public String getValue() {
                        throw new IllegalStateException("not today");
                    }
                }
                """)));

        TestServer.Response r = server.predict("getter", "{}");

        assertThat(r.status()).isEqualTo(500);
        assertThat(r.error()).contains("getter v1").contains("cannot be written as JSON").contains("not today");
        assertThat(server.predict("steady", "2").status()).isEqualTo(200);
    }

    @Test
    void modelSpinningForeverGets504WhileAnotherModelsLatencyIsUnaffected() throws Exception {
        Path gate = work.resolve("gate");
        String manifest = "{\"name\": \"spinner\", \"limits\": {\"timeout_ms\": 300, \"max_concurrent\": 2},"
                + " \"properties\": {\"gate\": \"" + gate + "\"}}";
        server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Spinner", "", """
                if ("spin".equals(input)) {
                    // Deaf to interrupts, like a runaway loop; it ends when the test opens the gate (or after 30 s).
                    java.nio.file.Path gate = java.nio.file.Path.of(context.properties().get("gate"));
                    long end = System.nanoTime() + 30_000_000_000L;
                    long n = 0;
                    while (System.nanoTime() < end && (++n % 1_000_000 != 0 || !java.nio.file.Files.exists(gate))) {
                        Thread.onSpinWait();
                    }
                }
                return "quick";
                """, "")));
        List<Long> before = latencies("steady", 30);

        long started = System.nanoTime();
        TestServer.Response timedOut = server.predict("spinner", "\"spin\"");
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        List<Long> during = latencies("steady", 30);

        assertThat(timedOut.status()).isEqualTo(504);
        assertThat(timedOut.error()).contains("spinner v1").contains("300 ms");
        assertThat(waited).isLessThan(5_000);
        assertThat(Collections.max(during)).as("steady's latencies while spinner spins: %s", during)
                .isLessThan(2_000);
        assertThat(median(during)).as("median before %s, during %s", before, during)
                .isLessThanOrEqualTo(median(before) * 5 + 50);
        Files.createFile(gate);
        assertThat(Eventually.get(() -> server.predict("spinner", "\"fast\"").status(), s -> s == 200)).isEqualTo(200);
    }

    @Test
    void loadSleepingPastItsTimeoutFailsTheDeployWithTheLimitNamed() {
        Map<String, byte[]> files = TestModels.scripted("sleepy", "Sleepy", "Thread.sleep(60_000);", "return 1;");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"sleepy\", \"entry\": \"example.Sleepy\","
                + " \"limits\": {\"load_timeout_ms\": 500}}"));

        long started = System.nanoTime();
        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("load() did not finish within 500 ms")
                .contains("limits.load_timeout_ms");
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)).isLessThan(30);
        assertThat(server.predict("steady", "3").status()).isEqualTo(200);
    }

    @Test
    void nonDaemonThreadLeftRunningIsReportedWhenItsCellIsUnloaded() {
        server.deploy(Packages.zip(TestModels.scripted("spawner", "Spawner", """
                Thread t = new Thread(() -> {
                    long end = System.nanoTime() + 15_000_000_000L;
                    while (System.nanoTime() < end) {
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException deaf) {
                            // ignores the unloader's interrupt
                        }
                    }
                }, "spawner-forever");
                t.setDaemon(false);
                t.start();
                """, "return 1;")));
        server.deploy(Packages.zip(TestModels.echo("spawner")));

        Map<String, Object> report = Eventually.get(() -> server.get("/api/events?model=spawner&limit=100").list()
                .stream().map(TestServer::asMap).filter(e -> "threads-left".equals(e.get("kind"))).findFirst()
                .orElse(Map.of()), e -> !e.isEmpty());

        assertThat(report).containsEntry("version", 1L);
        assertThat((String) report.get("message")).contains("spawner-forever (non-daemon)").contains("close()");
        assertThat(server.predict("spawner", "1").object()).containsEntry("version", 2L);
        assertThat(server.predict("steady", "1").status()).isEqualTo(200);
    }

    private List<Long> latencies(String model, int count) throws Exception {
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            TestServer.Response r = CompletableFuture.supplyAsync(() -> server.predict(model, "{\"i\": 1}"))
                    .get(30, TimeUnit.SECONDS);
            millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            assertThat(r.status()).isEqualTo(200);
        }
        return millis;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
