package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * ONNX Runtime's JNI library in class-loader-isolated cells: a JVM lets one native library file be loaded by one
 * class loader only. ORT's Java binding unpacks its libraries to a fresh temporary folder each time its class is
 * initialised, so every cell loads its own copy: a hot swap (v2 loading while v1 serves) and two ONNX models side
 * by side both work.
 */
class NativeLibraryTest extends CliTest {

    static final String VIRGINICA = "{\"features\":[6.3,3.3,6.0,2.5]}";

    @Test
    void hotSwapToASecondVersionKeepsAnsweringWhileTheNewCopyLoads() throws Exception {
        Map<?, ?> v1 = deploy(Path.of("cells/iris-onnx"));
        assertThat(v1.get("version")).isEqualTo(1L);

        AtomicBoolean swapping = new AtomicBoolean(true);
        ExecutorService clients = Executors.newFixedThreadPool(2);
        List<Future<List<Integer>>> statuses = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                statuses.add(clients.submit(() -> {
                    List<Integer> seen = new ArrayList<>();
                    // at least a few requests, and on until the swap is over
                    while (swapping.get() || seen.size() < 5) {
                        seen.add(server.predict("iris-onnx", VIRGINICA).statusCode());
                    }
                    return seen;
                }));
            }
            Map<?, ?> v2 = deploy(Path.of("cells/iris-onnx"));
            assertThat(v2.get("version")).isEqualTo(2L);
            assertThat(v2.get("port")).isEqualTo(v1.get("port"));
        } finally {
            swapping.set(false);
            clients.shutdown();
        }
        for (Future<List<Integer>> seen : statuses) {
            assertThat(seen.get()).isNotEmpty().containsOnly(200);
        }
        HttpResponse<String> after = server.predict("iris-onnx", VIRGINICA);
        assertThat(after.body()).contains("\"class\":\"virginica\"");

        // and back again: v1's cell is built anew, with yet another copy of the library
        Cli.Run back = cli.run(server.with("activate", "iris-onnx", "1"));
        assertThat(back.exit()).as(back.toString()).isZero();
        assertThat(back.out()).startsWith("iris-onnx v1 READY");
        assertThat(server.predict("iris-onnx", VIRGINICA).statusCode()).isEqualTo(200);
    }

    @Test
    void twoOnnxModelsServeSideBySideAndOneOutlivesTheOther() throws Exception {
        Path second = copyAs(Path.of("cells/iris-onnx"), work.resolve("iris-onnx-b"), "iris-onnx-b");
        Path third = copyAs(Path.of("cells/iris-onnx"), work.resolve("iris-onnx-c"), "iris-onnx-c");
        deploy(second);
        deploy(third);

        assertThat(server.predict("iris-onnx-b", VIRGINICA).body()).contains("\"class\":\"virginica\"");
        assertThat(server.predict("iris-onnx-c", VIRGINICA).body()).contains("\"class\":\"virginica\"");

        Cli.Run gone = cli.run(server.with("undeploy", "iris-onnx-b", "--purge"));
        assertThat(gone.exit()).as(gone.toString()).isZero();
        assertThat(server.predict("iris-onnx-c", VIRGINICA).body()).contains("\"class\":\"virginica\"");
        Cli.Run restarted = cli.run(server.with("restart", "iris-onnx-c"));
        assertThat(restarted.exit()).as(restarted.toString()).isZero();
        assertThat(server.predict("iris-onnx-c", VIRGINICA).statusCode()).isEqualTo(200);
    }

    private Map<?, ?> deploy(Path folder) throws IOException {
        Cli.Run run = cli.run(server.with("deploy", folder.toString(), "--json"));
        assertThat(run.exit()).as(run.toString()).isZero();
        Map<?, ?> d = (Map<?, ?>) Json.parse(run.out().getBytes(StandardCharsets.UTF_8));
        assertThat(d.get("state")).isEqualTo("READY");
        return d;
    }

    /** The example under another model name; the library jar is linked, not copied, to spare the disk. */
    private static Path copyAs(Path example, Path target, String name) throws IOException {
        try (Stream<Path> walk = Files.walk(example)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                Path to = target.resolve(example.relativize(file).toString());
                Files.createDirectories(to.getParent());
                if (file.toString().endsWith(".jar")) {
                    Files.createSymbolicLink(to, file.toAbsolutePath());
                } else {
                    Files.copy(file, to);
                }
            }
        }
        Path manifest = target.resolve("deploy.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"name\": \"iris-onnx\"",
                "\"name\": \"" + name + "\""));
        return target;
    }
}
