package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Models that leave things for the JVM's exit — shutdown hooks, deleteOnExit files, as ONNX Runtime does — swap
 * clean: the hooks run when their cell closes and leave the JVM's list, the files go with the cell, and the cell's
 * loader is collected.
 */
class NativeSwapTest extends ServerTest {

    static final int SWAPS = 30;

    @Test
    void shutdownHookAndDeleteOnExitFileOfACellAreDoneWhenItCloses() throws Exception {
        Path marks = Files.createDirectories(work.resolve("marks"));
        String load = """
                java.nio.file.Path marks = java.nio.file.Path.of("%s");
                java.nio.file.Path scratch = java.nio.file.Files.createTempFile(marks, "scratch-v" + context.version(), ".tmp");
                scratch.toFile().deleteOnExit();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        java.nio.file.Files.writeString(marks.resolve("hook-ran-v" + context.version()), "ran");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
                """.formatted(marks.toString().replace("\\", "\\\\"));
        Map<String, byte[]> hooked = TestModels.prebuilt(work, "{\"name\": \"hooked\"}", "Hooked", load,
                "return context.version();", "");
        server.deploy(Packages.zip(hooked));
        assertThat(scratchFiles(marks)).hasSize(1);

        server.deploy(Packages.zip(TestModels.echo("hooked")));

        // v1 is unloaded after the swap, once its requests drained: wait for the outcome, then look
        List<Object> kinds = Eventually.get(() -> HotSwapTest.kinds(server, "hooked"),
                k -> k.contains("unloaded") || k.contains("leaked"), UnloadTest.UNLOAD_BOUND);
        // it ran at close, not at the JVM's exit: only a hook taken off the JVM's list is started early
        assertThat(marks.resolve("hook-ran-v1")).hasContent("ran");
        assertThat(scratchFiles(marks)).isEmpty();
        assertThat(kinds).contains("unloaded").doesNotContain("leaked");
    }

    @Test
    void onnxModelHotSwappedThirtyTimesUnderLoadLeavesOnlyTheActiveLoader() throws Exception {
        OnnxGraphs.provideRuntime(data);
        byte[] archive = Packages.zip(OnnxGraphs.nocode("swapped", OnnxGraphs.classifier(), ""));
        assertThat(server.deploy(archive)).containsEntry("state", "READY");
        long rssBefore = rssBytes();

        AtomicBoolean swapping = new AtomicBoolean(true);
        ExecutorService clients = Executors.newFixedThreadPool(2);
        List<Future<List<Integer>>> statuses = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                statuses.add(clients.submit(() -> {
                    List<Integer> seen = new ArrayList<>();
                    while (swapping.get() || seen.size() < 5) {
                        seen.add(server.predict("swapped", "{\"instances\": [[0, 1, 0, 0]]}").status());
                    }
                    return seen;
                }));
            }
            for (int i = 2; i <= SWAPS + 1; i++) {
                assertThat(server.deploy(archive)).containsEntry("state", "READY").containsEntry("version", (long) i);
            }
        } finally {
            swapping.set(false);
            clients.shutdown();
        }
        for (Future<List<Integer>> seen : statuses) {
            assertThat(seen.get()).isNotEmpty().containsOnly(200);
        }

        List<Object> kinds = Eventually.get(() -> HotSwapTest.kinds(server, "swapped"),
                k -> k.stream().filter("unloaded"::equals).count() >= SWAPS || k.contains("leaked"), UnloadTest.UNLOAD_BOUND);
        assertThat(kinds).doesNotContain("leaked");
        assertThat(kinds.stream().filter("unloaded"::equals).count()).isEqualTo(SWAPS);
        assertThat(server.get("/metrics").text()).containsPattern("deployer_cells_unloaded_reachable\\S* 0.0");
        long growth = rssBytes() - rssBefore;
        assertThat(growth).as("RSS growth over %d swaps, bytes", SWAPS).isLessThan(100L << 20);
    }

    private static List<Path> scratchFiles(Path marks) throws IOException {
        try (var files = Files.list(marks)) {
            return files.filter(f -> f.getFileName().toString().startsWith("scratch-")).toList();
        }
    }

    /** This process's resident set, from /proc (Linux, where the tests run). */
    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
