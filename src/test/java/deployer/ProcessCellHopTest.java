package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The hop between the server and a process cell's child: a request past its deadline answers 504 and does not hold
 * up the next one (its connection is dropped, not reused while the model's code still runs), bodies and replies of
 * megabytes cross whole, and the child's socket folder goes with the child.
 */
class ProcessCellHopTest extends ServerTest {

    /** Spins 4 s (past its 1 s deadline) without noticing interrupts; answers whether a spin is under way, or sizes. */
    private static Map<String, byte[]> hop(String name) {
        Map<String, byte[]> files = TestModels.scripted(name, "Hop", "", """
                Map<?, ?> m = (Map<?, ?>) input;
                Object what = m.get("do");
                if ("spin".equals(what)) {
                    SPINNING.set(true);
                    try {
                        long end = System.nanoTime() + 4_000_000_000L;
                        while (System.nanoTime() < end) {
                            Thread.onSpinWait();
                        }
                    } finally {
                        SPINNING.set(false);
                    }
                    return Map.of("spun", true);
                }
                if ("big".equals(what)) {
                    return Map.of("text", "x".repeat(((Number) m.get("n")).intValue()));
                }
                if ("size".equals(what)) {
                    return Map.of("size", ((String) m.get("text")).length());
                }
                return Map.of("spinning", SPINNING.get(), "pid", ProcessHandle.current().pid());
                """, """
                static final java.util.concurrent.atomic.AtomicBoolean SPINNING =
                        new java.util.concurrent.atomic.AtomicBoolean();
                """);
        files.put("deploy.json", TestModels.bytes("{\"name\": \"" + name + "\", \"entry\": \"example.Hop\","
                + " \"isolation\": \"process\", \"jvm\": {\"heap_mb\": 128},"
                + " \"limits\": {\"max_concurrent\": 2, \"timeout_ms\": 1000}}"));
        return files;
    }

    @Test
    void aRequestPastItsDeadlineAnswers504AndTheNextIsServedWhileItsCodeStillRuns() {
        Map<String, Object> d = server.deploy(Packages.zip(hop("slowpoke")));
        URI own = URI.create(d.get("url") + "/predict");
        for (URI route : new URI[] {own, server.uri("/models/slowpoke/predict")}) {
            TestServer.Response late = server.post(route, "{\"do\": \"spin\"}");
            assertThat(late.status()).as(late.text()).isEqualTo(504);
            assertThat(late.error()).contains("limits.timeout_ms");

            // The spinning request still holds one of the child's two slots, and its connection: this one gets
            // the other slot on another connection and is answered while the spin goes on.
            TestServer.Response next = server.post(route, "{\"x\": 1}");
            assertThat(next.status()).as(next.text()).isEqualTo(200);
            assertThat(next.object()).containsEntry("spinning", true);

            // Once the spin ends its slot comes back: both slots serve again.
            Eventually.get(() -> server.post(route, "{\"x\": 2}").object(), m -> Boolean.FALSE.equals(
                    m.get("spinning")));
        }
    }

    @Test
    void bodiesAndRepliesOfMegabytesCrossWhole() {
        server.deploy(Packages.zip(hop("bulky")));
        String text = "y".repeat(6 << 20);
        TestServer.Response sized = server.predict("bulky", "{\"do\": \"size\", \"text\": \"" + text + "\"}");
        assertThat(sized.status()).as(sized.text()).isEqualTo(200);
        assertThat(sized.object()).containsEntry("size", (long) text.length());

        TestServer.Response big = server.predict("bulky", "{\"do\": \"big\", \"n\": " + (5 << 20) + "}");
        assertThat(big.status()).isEqualTo(200);
        assertThat((String) big.object().get("text")).hasSize(5 << 20);
        assertThat(server.predict("bulky", "{\"x\": 1}").status()).isEqualTo(200);
    }

    @Test
    void theChildsSocketFolderGoesWhenItsModelStops() throws Exception {
        Map<String, Object> d = server.deploy(Packages.zip(hop("tidy")));
        long pid = (Long) d.get("pid");
        // The child's command line, as Linux keeps it (ProcessHandle.Info leaves out a line this long).
        java.nio.file.Path cmdline = java.nio.file.Path.of("/proc", Long.toString(pid), "cmdline");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(cmdline), "needs Linux's /proc");
        String[] args = new String(java.nio.file.Files.readAllBytes(cmdline), java.nio.charset.StandardCharsets.UTF_8)
                .split("\0");
        String folder = null;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--frames")) {
                folder = args[i + 1];
            }
        }
        assertThat(folder).as(String.join(" ", args)).isNotNull().isNotEqualTo("tcp");
        assertThat(java.nio.file.Path.of(folder).resolve("cell.sock")).exists();

        assertThat(server.send(java.net.http.HttpRequest.newBuilder(server.uri("/api/models/tidy/stop"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).POST(java.net.http.HttpRequest.BodyPublishers
                        .noBody())).status()).isEqualTo(200);
        Eventually.get(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
        String gone = folder;
        Eventually.get(() -> java.nio.file.Files.exists(java.nio.file.Path.of(gone)), exists -> !exists);
    }
}
