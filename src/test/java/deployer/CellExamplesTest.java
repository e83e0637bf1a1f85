package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code deployer cell DIR} — what a container runs — on every example in {@code cells/}, in a process of its own:
 * each answers the predictions its README documents, its health, and the Open Inference Protocol.
 */
class CellExamplesTest {

    private static final Pattern SERVING = Pattern.compile("deployer cell serving on .*:(\\d+) \\(");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void echoAloneEchoesAndAnswersHealthAndTheProtocol() throws Exception {
        try (Alone cell = Alone.start("cells/echo")) {
            assertThat(post(cell, "/predict", "{\"hello\": \"world\"}").object())
                    .containsEntry("echo", Map.of("hello", "world"));
            assertUp(cell, "echo");
            TestServer.Response oip = post(cell, "/v2/models/echo/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\":"
                    + " [1], \"datatype\": \"FP64\", \"data\": [1.5]}]}");
            assertThat(oip.status()).as(oip.text()).isEqualTo(200);
            assertThat(oip.object()).containsEntry("model_name", "echo");
        }
    }

    @Test
    void irisAloneClassifiesTheDocumentedRows() throws Exception {
        try (Alone cell = Alone.start("cells/iris")) {
            Map<String, Object> setosa = post(cell, "/predict", "{\"features\": [5.1, 3.5, 1.4, 0.2]}").object();
            assertThat(setosa).containsEntry("class", "setosa");
            assertThat(TestServer.asMap(setosa.get("probabilities"))).containsEntry("setosa", 0.9973);
            assertClasses(post(cell, "/predict", "{\"instances\": [[7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]]}")
                    .object(), "versicolor", "virginica");
            assertUp(cell, "iris");
            assertOipClass(cell, "iris");
        }
    }

    @Test
    void irisOnnxAloneClassifiesTheDocumentedRows() throws Exception {
        try (Alone cell = Alone.start("cells/iris-onnx")) {
            assertThat(post(cell, "/predict", "{\"features\": [5.1, 3.5, 1.4, 0.2]}").object())
                    .containsEntry("class", "setosa")
                    .containsEntry("probabilities", Map.of("setosa", 0.9909, "versicolor", 0.0091, "virginica", 0.0));
            assertClasses(post(cell, "/predict", BATCH).object(), "setosa", "versicolor", "virginica");
            assertUp(cell, "iris-onnx");
            assertOipClass(cell, "iris-onnx");
        }
    }

    @Test
    void irisTribuoAloneClassifiesTheDocumentedRows() throws Exception {
        try (Alone cell = Alone.start("cells/iris-tribuo")) {
            assertThat(post(cell, "/predict", "{\"features\": [5.1, 3.5, 1.4, 0.2]}").object())
                    .containsEntry("class", "setosa");
            assertClasses(post(cell, "/predict", BATCH).object(), "setosa", "versicolor", "virginica");
            assertUp(cell, "iris-tribuo");
            // Its README documents no inference by the protocol (it declares no tensors): the model's metadata then.
            HttpResponse<String> metadata = http.send(HttpRequest.newBuilder(cell.uri("/v2/models/iris-tribuo"))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metadata.statusCode()).isEqualTo(200);
            assertThat(new TestServer.Response(200, metadata.body()).object()).containsEntry("name", "iris-tribuo");
        }
    }

    @Test
    void noCodeOnnxAloneWithTheRuntimeFolderAnswersRowsAndTensors() throws Exception {
        try (Alone cell = Alone.start("cells/iris-onnx-nocode", "--runtimes", "cells/iris-onnx/lib")) {
            List<?> rows = (List<?>) post(cell, "/predict", "{\"instances\": [[1.4, 0.2, 5.1, 3.5]]}").object()
                    .get("predictions");
            assertThat((Double) ((List<?>) rows.get(0)).get(1)).isBetween(0.9908, 0.9909);
            assertUp(cell, "iris-onnx-nocode");
            TestServer.Response oip = post(cell, "/v2/models/iris-onnx-nocode/infer", "{\"inputs\": [{\"name\":"
                    + " \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1.4, 0.2, 5.1, 3.5]}]}");
            assertThat(oip.status()).as(oip.text()).isEqualTo(200);
            assertThat((List<?>) oip.object().get("outputs")).singleElement().satisfies(o -> assertThat(
                    TestServer.asMap(o)).containsEntry("datatype", "FP32").containsEntry("shape", List.of(1L, 3L)));
        }
    }

    private static final String BATCH = "{\"instances\": [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4],"
            + " [6.3, 3.3, 6.0, 2.5]]}";

    private static void assertClasses(Map<String, Object> answer, Object... classes) {
        assertThat((List<?>) answer.get("predictions")).extracting(p -> (Object) ((Map<?, ?>) p).get("class"))
                .containsExactly(classes);
    }

    private void assertUp(Alone cell, String model) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(cell.uri("/health")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(new TestServer.Response(200, r.body()).object()).containsEntry("status", "UP")
                .containsEntry("model", model);
    }

    private void assertOipClass(Alone cell, String model) throws Exception {
        TestServer.Response r = post(cell, "/v2/models/" + model + "/infer", "{\"id\": \"1\", \"inputs\": [{\"name\":"
                + " \"features\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [5.1, 3.5, 1.4, 0.2]}]}");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.object()).containsEntry("model_name", model);
        assertThat((List<?>) r.object().get("outputs")).anySatisfy(o -> assertThat(TestServer.asMap(o))
                .containsEntry("name", "class").containsEntry("data", List.of("setosa")));
    }

    private TestServer.Response post(Alone cell, String path, String json) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(cell.uri(path)).header("Content-Type",
                "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new TestServer.Response(r.statusCode(), r.body());
    }

    /** {@code deployer cell DIR --port 0} in a child JVM, until closed. */
    private record Alone(Process process, int port) implements AutoCloseable {

        static Alone start(String folder, String... extra) throws Exception {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), "deployer.Main", "cell",
                    Path.of(folder).toAbsolutePath().toString(), "--port", "0", "--host", "127.0.0.1"));
            for (String arg : extra) {
                command.add(arg.startsWith("cells/") ? Path.of(arg).toAbsolutePath().toString() : arg);
            }
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            StringBuilder output = new StringBuilder();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        synchronized (output) {
                            output.append(line).append('\n');
                        }
                        Matcher m = SERVING.matcher(line);
                        if (m.find()) {
                            port.complete(Integer.parseInt(m.group(1)));
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
                port.completeExceptionally(new IllegalStateException("deployer cell " + folder + " ended: "
                        + output));
            });
            reader.setDaemon(true);
            reader.start();
            try {
                return new Alone(process, port.get(120, TimeUnit.SECONDS));
            } catch (Exception e) {
                process.destroyForcibly();
                throw e;
            }
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
