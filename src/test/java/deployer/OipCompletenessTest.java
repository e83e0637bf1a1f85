package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.pack.LibStore;
import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Open Inference Protocol for every model: typed outputs of script models, the repository extension, and the
 * ONNX examples (scripted and template) answering {@code infer}.
 */
class OipCompletenessTest extends ServerTest {

    private TestServer.Response infer(String model, String body) {
        return server.post(server.uri("/v2/models/" + model + "/infer"), body);
    }

    private static Map<String, Object> output(TestServer.Response r, String name) {
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return ((List<?>) r.object().get("outputs")).stream().map(TestServer::asMap)
                .filter(o -> name.equals(o.get("name"))).findFirst().orElseThrow(() -> new AssertionError(r.text()));
    }

    @Test
    void numbersArraysAndMapsOfAScriptModelComeBackAsTypedTensors() {
        server.deploy(Packages.zip(TestModels.scripted("typed", "Typed", "", """
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("score", 0.5);
                out.put("count", 3);
                out.put("vector", new double[] {1.5, 2.5});
                out.put("matrix", new float[][] {{1, 2}, {3, 4}, {5, 6}});
                Map<String, Object> byClass = new LinkedHashMap<>();
                byClass.put("cat", 0.25);
                byClass.put("dog", 0.75);
                out.put("by_class", byClass);
                out.put("label", "cat");
                return out;
                """)));

        TestServer.Response r = infer("typed", """
                {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}""");

        assertThat(output(r, "score")).containsEntry("datatype", "FP64").containsEntry("shape", List.of(1L))
                .containsEntry("data", List.of(0.5));
        assertThat(output(r, "count")).containsEntry("datatype", "INT64").containsEntry("data", List.of(3L));
        assertThat(output(r, "vector")).containsEntry("datatype", "FP64").containsEntry("shape", List.of(2L))
                .containsEntry("data", List.of(1.5, 2.5));
        assertThat(output(r, "matrix")).containsEntry("shape", List.of(3L, 2L))
                .containsEntry("data", List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0));
        assertThat(output(r, "by_class")).containsEntry("datatype", "FP64").containsEntry("shape", List.of(2L))
                .containsEntry("data", List.of(0.25, 0.75)).containsEntry("parameters", Map.of("keys", "cat,dog"));
        assertThat(output(r, "label")).containsEntry("datatype", "BYTES").containsEntry("data", List.of("cat"));
    }

    @Test
    void declaredInputsArriveAsTypedJavaArraysAndOthersAsTheMapForm() {
        Map<String, byte[]> files = TestModels.scripted("arrays", "Arrays", "", """
                Map<String, Object> in = (Map<String, Object>) input;
                float[][] x = (float[][]) in.get("x");
                long[] k = (long[]) in.get("k");
                return Map.of("y", new float[] {x[1][0] * k[0]}, "types", x.getClass().getSimpleName() + " "
                        + k.getClass().getSimpleName());
                """);
        files.put("deploy.json", TestModels.bytes("""
                {"name": "arrays", "entry": "example.Arrays",
                 "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 2]},
                            {"name": "k", "datatype": "INT64", "shape": [1]}]}"""));
        server.deploy(Packages.zip(files));

        TestServer.Response r = infer("arrays", """
                {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, 4]},
                            {"name": "k", "shape": [1], "datatype": "INT32", "data": [10]}]}""");
        TestServer.Response wrong = infer("arrays", """
                {"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]},
                            {"name": "k", "shape": [1], "datatype": "INT64", "data": [10]}]}""");
        TestServer.Response bytes = infer("arrays", """
                {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]},
                            {"name": "k", "shape": [1], "datatype": "BYTES", "data": ["10"]}]}""");

        assertThat(output(r, "y")).containsEntry("data", List.of(30.0));
        assertThat(output(r, "types")).containsEntry("data", List.of("float[][] long[]"));
        assertThat(wrong.status()).isEqualTo(400);
        assertThat(wrong.error()).contains("input x").contains("[-1, 2]");
        assertThat(bytes.status()).isEqualTo(400);
        assertThat(bytes.error()).contains("input k").contains("BYTES");
    }

    @Test
    void repositoryExtensionListsLoadsAndUnloadsBehindTheToken() {
        server.deploy(Packages.zip(TestModels.echo("repo")));
        HttpRequest.Builder index = HttpRequest.newBuilder(server.uri("/v2/repository/index"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"));

        assertThat(server.send(index).status()).isEqualTo(401);
        assertThat(server.send(HttpRequest.newBuilder(server.uri("/v2/repository/models/repo/unload"))
                .POST(HttpRequest.BodyPublishers.noBody())).status()).isEqualTo(401);
        assertThat(repository("index", "{}").list()).containsExactly(
                Map.of("name", "repo", "version", "1", "state", "READY", "reason", ""));

        assertThat(repository("models/repo/unload", "").status()).isEqualTo(200);
        assertThat(server.get("/v2/models/repo/ready").status()).isEqualTo(400);
        assertThat(TestServer.asMap(repository("index", "").list().get(0))).containsEntry("state", "UNAVAILABLE");
        assertThat(repository("index", "{\"ready\": true}").list()).isEmpty();

        assertThat(repository("models/repo/load", "").status()).isEqualTo(200);
        assertThat(server.get("/v2/models/repo/ready").status()).isEqualTo(200);
        assertThat(server.predict("repo", "{\"a\": 1}").status()).isEqualTo(200);
        assertThat(repository("models/nobody/load", "").status()).isEqualTo(404);
        assertThat(server.get("/v2").object().get("extensions")).isEqualTo(List.of("model_repository", "binary_tensor_data"));
    }

    @Test
    void scriptedIrisOnnxAndTheOnnxTemplateAnswerEveryForm() throws IOException {
        seedOnnxRuntimeInTheLibStore();
        Map<String, byte[]> scripted = folder(Path.of("cells/iris-onnx"), "deploy.json", "serving", "model");
        assertThat(deployWithStoredRuntime(scripted)).containsEntry("state", "READY");

        String row = "[5.1, 3.5, 1.4, 0.2]";
        assertThat(server.predict("iris-onnx", "{\"instances\": [" + row + "]}").text()).contains("setosa");
        assertThat(server.predict("iris-onnx", "{\"inputs\": {\"features\": [" + row + "]}}").text())
                .contains("setosa");
        TestServer.Response oip = infer("iris-onnx", """
                {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}""");
        assertThat(output(oip, "class")).containsEntry("datatype", "BYTES").containsEntry("data", List.of("setosa"));
        assertThat(output(oip, "probabilities")).containsEntry("datatype", "FP32")
                .containsEntry("shape", List.of(1L, 3L))
                .containsEntry("parameters", Map.of("keys", "setosa,versicolor,virginica"));

        Map<String, byte[]> template = folder(Path.of("target/classes/templates/onnx"), "serving", "model");
        template.put("serving/TemplatedModel.java", new String(template.remove("serving/{{class}}.java"),
                StandardCharsets.UTF_8).replace("{{class}}", "TemplatedModel").getBytes(StandardCharsets.UTF_8));
        template.put("deploy.json", TestModels.bytes("{\"name\": \"templated\", \"entry\": \"serving.TemplatedModel\"}"));
        assertThat(deployWithStoredRuntime(template)).containsEntry("state", "READY");
        // the template's columns: model.properties's order (petal_length, petal_width, sepal_length, sepal_width)
        String graphRow = "[1.4, 0.2, 5.1, 3.5]";
        assertThat(server.predict("templated", "{\"instances\": [" + graphRow + "]}").text()).contains("setosa");
        assertThat(server.predict("templated", "{\"inputs\": {\"features\": [" + graphRow + "]}}").text())
                .contains("setosa");
        assertThat(output(infer("templated", """
                {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1.4, 0.2, 5.1, 3.5]}]}\
                """), "class")).containsEntry("data", List.of("setosa"));
    }

    private TestServer.Response repository(String path, String body) {
        return server.send(HttpRequest.newBuilder(server.uri("/v2/repository/" + path))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private String ortSha;

    /** As if an earlier upload had carried ONNX Runtime: the store holds it (a link to Maven's copy). */
    private void seedOnnxRuntimeInTheLibStore() throws IOException {
        Path jar = OnnxGraphs.onnxRuntimeJar();
        ortSha = LibStore.sha256(jar);
        Files.createDirectories(data.resolve("libs"));
        Files.createSymbolicLink(data.resolve("libs").resolve(ortSha + ".jar"), jar);
    }

    private Map<String, Object> deployWithStoredRuntime(Map<String, byte[]> files) {
        Multipart form = new Multipart().file("package", "p.zip", Packages.zip(files))
                .file("stored", "lib/" + OnnxGraphs.onnxRuntimeJar().getFileName(),
                        ortSha.getBytes(StandardCharsets.US_ASCII));
        TestServer.Response r = server.upload(form, "wait=120");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.object();
    }

    private static Map<String, byte[]> folder(Path base, String... parts) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String part : parts) {
            try (Stream<Path> walk = Files.walk(base.resolve(part))) {
                for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                    files.put(base.relativize(file).toString(), Files.readAllBytes(file));
                }
            }
        }
        return files;
    }
}
