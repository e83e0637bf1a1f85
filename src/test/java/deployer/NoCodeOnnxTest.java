package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code "runtime": "onnx"} (DESIGN 1.9): graphs made at test time, deployed with no script, scored by JSON and by
 * the Open Inference Protocol, described by the protocol's metadata.
 */
class NoCodeOnnxTest extends ServerTest {

    @BeforeEach
    void runtime() {
        OnnxGraphs.provideRuntime(data);
    }

    private Map<String, Object> deploy(String name, byte[] graph) {
        Map<String, Object> d = server.deploy(Packages.zip(OnnxGraphs.nocode(name, graph, "")));
        assertThat(d).as(String.valueOf(d)).containsEntry("state", "READY");
        return d;
    }

    private TestServer.Response infer(String model, String body) {
        return server.post(server.uri("/v2/models/" + model + "/infer"), body);
    }

    private static Map<String, Object> output(TestServer.Response r, String name) {
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return ((List<?>) r.object().get("outputs")).stream().map(TestServer::asMap)
                .filter(o -> name.equals(o.get("name"))).findFirst().orElseThrow(() -> new AssertionError(r.text()));
    }

    @Test
    void irisNoCodeExampleServesTheGraphWithNoScript() throws Exception {
        Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        java.nio.file.Path example = java.nio.file.Path.of("cells/iris-onnx-nocode");
        files.put("deploy.json", java.nio.file.Files.readAllBytes(example.resolve("deploy.json")));
        files.put("model/model.onnx", java.nio.file.Files.readAllBytes(example.resolve("model/model.onnx")));
        assertThat(server.deploy(Packages.zip(files))).containsEntry("state", "READY");

        TestServer.Response r = server.predict("iris-onnx-nocode", "{\"instances\": [[1.4, 0.2, 5.1, 3.5]]}");

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<?> row = (List<?>) ((List<?>) r.object().get("predictions")).get(0);
        assertThat((Double) row.get(1)).as("setosa").isGreaterThan(0.99);
        assertThat(output(infer("iris-onnx-nocode", """
                {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1.4, 0.2, 5.1, 3.5]}]}\
                """), "output")).containsEntry("datatype", "FP32").containsEntry("shape", List.of(1L, 3L));
    }

    @Test
    void classifierWithZipMapAnswersLabelAndProbabilitiesPerRow() {
        deploy("classifier", OnnxGraphs.classifier());

        TestServer.Response r = server.predict("classifier", "{\"instances\": [[1, 0, 0, 0], [0, 0, 3, 0]]}");

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<?> predictions = (List<?>) r.object().get("predictions");
        assertThat(predictions).hasSize(2);
        Map<String, Object> first = TestServer.asMap(predictions.get(0));
        assertThat(first).containsEntry("label", 0L);
        Map<String, Object> p = TestServer.asMap(first.get("probabilities"));
        assertThat(p).containsOnlyKeys("0", "1", "2");
        // softmax([2, 0, 0]) as floats
        assertThat((Double) p.get("0")).isCloseTo(Math.exp(2) / (Math.exp(2) + 2), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(TestServer.asMap(predictions.get(1))).containsEntry("label", 2L);
    }

    @Test
    void classifierByOipAnswersTypedTensors() {
        deploy("classifier", OnnxGraphs.classifier());
        String request = """
                {"id": "7", "inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP64",
                                        "data": [[1, 0, 0, 0], [0, 0, 3, 0]]}]}""";

        TestServer.Response r = infer("classifier", request);

        assertThat(r.object()).containsEntry("id", "7").containsEntry("model_name", "classifier");
        assertThat(output(r, "label")).containsEntry("datatype", "INT64").containsEntry("shape", List.of(2L))
                .containsEntry("data", List.of(0L, 2L));
        Map<String, Object> p = output(r, "probabilities");
        assertThat(p).containsEntry("datatype", "FP32").containsEntry("shape", List.of(2L, 3L))
                .containsEntry("parameters", Map.of("classes", "0,1,2"));
        assertThat((List<?>) p.get("data")).hasSize(6);
    }

    @Test
    void theOnePassReadingAndWritingOfTensorsAnswersWhatTheGeneralPathAnswers() {
        deploy("mlp", OnnxGraphs.mlp(3, 4, 3, 5));
        String tensor = "{\"name\": \"x\", \"shape\": [2, 4], \"datatype\": \"FP32\","
                + " \"data\": [[0.5, -1, 2.25, 3e-2], [1, 2, 3, 4]]";
        // the plain request takes the one-pass reader and writer; "parameters" and "outputs" send it the general way
        TestServer.Response fast = infer("mlp", "{\"id\": \"a\", \"inputs\": [" + tensor + "}]}");
        TestServer.Response general = infer("mlp", "{\"id\": \"a\", \"inputs\": [" + tensor
                + ", \"parameters\": {}}], \"outputs\": [{\"name\": \"y\"}]}");

        assertThat(fast.status()).as(fast.text()).isEqualTo(200);
        assertThat(general.status()).as(general.text()).isEqualTo(200);
        assertThat(fast.object()).isEqualTo(general.object()).containsEntry("id", "a");
        assertThat(output(fast, "y")).containsEntry("datatype", "FP32").containsEntry("shape", List.of(2L, 3L));
    }

    @Test
    void everySupportedDatatypeRoundTripsByOipAndJson() {
        deploy("types", OnnxGraphs.types());
        String request = """
                {"inputs": [
                  {"name": "f32", "shape": [1, 2], "datatype": "FP32", "data": [1.5, -2.25]},
                  {"name": "f64", "shape": [1, 2], "datatype": "FP64", "data": [0.1, 1e300]},
                  {"name": "i32", "shape": [1, 2], "datatype": "INT32", "data": [-7, 2147483647]},
                  {"name": "i64", "shape": [1, 2], "datatype": "INT64", "data": [9007199254740993, -1]},
                  {"name": "b", "shape": [1, 2], "datatype": "BOOL", "data": [true, false]},
                  {"name": "s", "shape": [1, 1], "datatype": "BYTES", "data": ["héllo"]}]}""";

        TestServer.Response r = infer("types", request);

        assertThat(output(r, "f32_out")).containsEntry("datatype", "FP32").containsEntry("data", List.of(1.5, -2.25))
                .containsEntry("shape", List.of(1L, 2L));
        assertThat(output(r, "f64_out")).containsEntry("datatype", "FP64").containsEntry("data", List.of(0.1, 1e300));
        assertThat(output(r, "i32_out")).containsEntry("datatype", "INT32")
                .containsEntry("data", List.of(-7L, 2147483647L));
        assertThat(output(r, "i64_out")).containsEntry("datatype", "INT64")
                .containsEntry("data", List.of(9007199254740993L, -1L));
        assertThat(output(r, "b_out")).containsEntry("datatype", "BOOL").containsEntry("data", List.of(true, false));
        assertThat(output(r, "s_out")).containsEntry("datatype", "BYTES").containsEntry("data", List.of("héllo"));

        // numbers convert where no value changes: INT64 data feed the FP32 and INT32 inputs, 3.0 an INT64 one
        TestServer.Response converted = infer("types", request.replace("\"FP32\", \"data\": [1.5, -2.25]",
                "\"INT64\", \"data\": [3, 4]").replace("[9007199254740993, -1]", "[3.0, -1]"));
        assertThat(output(converted, "f32_out")).containsEntry("data", List.of(3.0, 4.0));
        assertThat(output(converted, "i64_out")).containsEntry("data", List.of(3L, -1L));

        TestServer.Response json = server.predict("types", """
                {"inputs": {"f32": [[1, 2]], "f64": [[3, 4]], "i32": [[5, 6]], "i64": [[7, 8]],
                            "b": [[true, false]], "s": ["x"]}}""");
        assertThat(json.status()).as(json.text()).isEqualTo(200);
        Map<String, Object> row = TestServer.asMap(((List<?>) json.object().get("predictions")).get(0));
        assertThat(row).containsEntry("f32_out", List.of(1.0, 2.0)).containsEntry("i64_out", List.of(7L, 8L))
                .containsEntry("b_out", List.of(true, false)).containsEntry("s_out", List.of("x"));
    }

    @Test
    void badTensorsAnswer400NamingTheTensor() {
        deploy("types", OnnxGraphs.types());
        String good = """
                {"inputs": [
                  {"name": "f32", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]},
                  {"name": "f64", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]},
                  {"name": "i32", "shape": [1, 2], "datatype": "INT32", "data": [1, 2]},
                  {"name": "i64", "shape": [1, 2], "datatype": "INT64", "data": [1, 2]},
                  {"name": "b", "shape": [1, 2], "datatype": "BOOL", "data": [true, false]},
                  {"name": "s", "shape": [1, 1], "datatype": "BYTES", "data": ["x"]}]}""";
        assertThat(infer("types", good).status()).isEqualTo(200);

        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("f32", good.replace("\"FP32\", \"data\": [1, 2]", "\"BYTES\", \"data\": [\"1\", \"2\"]"));
        bad.put("i64", good.replace("\"INT64\", \"data\": [1, 2]", "\"BOOL\", \"data\": [true, false]"));
        bad.put("i32", good.replace("\"INT32\", \"data\": [1, 2]", "\"FP64\", \"data\": [1.5, 2]"));
        bad.put("s", good.replace("\"BYTES\", \"data\": [\"x\"]", "\"INT64\", \"data\": [1]"));
        bad.put("b", good.replace("\"BOOL\", \"data\": [true, false]", "\"INT32\", \"data\": [1, 0]"));
        bad.put("f64", good.replace("\"shape\": [1, 2], \"datatype\": \"FP64\"", "\"shape\": [1, 3], \"datatype\":"
                + " \"FP64\""));
        for (Map.Entry<String, String> c : bad.entrySet()) {
            TestServer.Response r = infer("types", c.getValue());
            assertThat(r.status()).as(c.getKey() + ": " + r.text()).isEqualTo(400);
            assertThat(r.error()).as(c.getKey()).contains("input " + c.getKey());
        }
        TestServer.Response missing = server.predict("types", "{\"inputs\": {\"f32\": [[1, 2]]}}");
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.error()).contains("f64").contains("missing");
        TestServer.Response wrongShape = server.predict("types", """
                {"inputs": {"f32": [[1, 2, 3]], "f64": [[3, 4]], "i32": [[5, 6]], "i64": [[7, 8]],
                            "b": [[true, false]], "s": ["x"]}}""");
        assertThat(wrongShape.status()).isEqualTo(400);
        assertThat(wrongShape.error()).contains("input f32").contains("[-1, 2]");
        TestServer.Response instances = server.predict("types", "{\"instances\": [[1, 2]]}");
        assertThat(instances.status()).isEqualTo(400);
        assertThat(instances.error()).contains("6 inputs");
    }

    @Test
    void fp64RegressionAndTwoInputsOfDifferentTypes() {
        deploy("regression", OnnxGraphs.regression());
        deploy("mixed", OnnxGraphs.mixed());

        TestServer.Response y = server.predict("regression", "{\"instances\": [[2, 4], [0, 0]]}");
        assertThat(y.object()).isEqualTo(Map.of("predictions", List.of(List.of(3.0), List.of(1.0))));
        TestServer.Response oip = infer("regression", """
                {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [0.1, 0.2]}]}""");
        assertThat(output(oip, "y")).containsEntry("datatype", "FP64").containsEntry("data",
                List.of(0.1 * 0.5 + 0.2 * 0.25 + 1.0));

        TestServer.Response m = server.predict("mixed", "{\"inputs\": {\"x\": [[1, 2, 3]], \"k\": [[2]]}}");
        assertThat(m.object()).isEqualTo(Map.of("predictions", List.of(List.of(2.0, 4.0, 6.0))));
        TestServer.Response mOip = infer("mixed", """
                {"inputs": [{"name": "k", "shape": [2, 1], "datatype": "INT64", "data": [3, -1]},
                            {"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 0.5, 0, 1]}]}""");
        assertThat(output(mOip, "y")).containsEntry("datatype", "FP32").containsEntry("shape", List.of(2L, 3L))
                .containsEntry("data", List.of(3.0, 6.0, 9.0, -0.5, -0.0, -1.0));
    }

    @Test
    void metadataDescribesTheGraphAndListsEveryVersion() {
        deploy("mixed", OnnxGraphs.mixed());
        deploy("mixed", OnnxGraphs.mixed());

        Map<String, Object> metadata = server.get("/v2/models/mixed").object();

        assertThat(metadata).containsEntry("name", "mixed").containsEntry("versions", List.of("1", "2"))
                .containsEntry("platform", "onnxruntime_onnx");
        assertThat(metadata.get("inputs")).isEqualTo(List.of(
                Map.of("name", "x", "datatype", "FP32", "shape", List.of(-1L, 3L)),
                Map.of("name", "k", "datatype", "INT64", "shape", List.of(-1L, 1L))));
        assertThat(metadata.get("outputs")).isEqualTo(List.of(
                Map.of("name", "y", "datatype", "FP32", "shape", List.of(-1L, 3L))));
    }

    @Test
    void tritonclientShapedRequestsAreAccepted() {
        deploy("classifier", OnnxGraphs.classifier());
        // What tritonclient.http's InferInput.set_data_from_numpy(..., binary_data=False) and
        // InferRequestedOutput(name, binary_data=False) put in the body of client.infer(...)
        String withOutputs = """
                {"id":"1","inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1.0,0.0,0.0,0.0]}],\
                "outputs":[{"name":"label","parameters":{"binary_data":false}}]}""";
        // both outputs, asked for as JSON
        String bothOutputs = """
                {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[0.0,2.0,0.0,0.0]}],\
                "outputs":[{"name":"label","parameters":{"binary_data":false}},\
                {"name":"probabilities","parameters":{"binary_data":false}}]}""";
        // (with no outputs named the client asks for them all as binary: OipBinaryDataTest)

        TestServer.Response first = infer("classifier", withOutputs);
        TestServer.Response second = infer("classifier", bothOutputs);

        assertThat((List<?>) first.object().get("outputs")).hasSize(1);
        assertThat(output(first, "label")).containsEntry("data", List.of(0L));
        assertThat(output(second, "label")).containsEntry("data", List.of(1L));
        assertThat(output(second, "probabilities")).containsEntry("datatype", "FP32")
                .containsEntry("shape", List.of(1L, 3L));
        assertThat((List<?>) second.object().get("outputs")).hasSize(2);
    }

    @Test
    void manifestAndPackageMistakesAreRefusedAtUpload() {
        TestServer.Response withEntry = server.upload(Packages.zip(OnnxGraphs.nocode("m", OnnxGraphs.mixed(),
                ", \"entry\": \"example.X\"")), "wait=30");
        TestServer.Response unknown = server.upload(Packages.zip(Map.of("deploy.json",
                Packages.manifest("{\"name\": \"m\", \"runtime\": \"tensorflow\"}"))), "wait=30");
        TestServer.Response noGraph = server.upload(Packages.zip(Map.of("deploy.json",
                Packages.manifest("{\"name\": \"m\", \"runtime\": \"onnx\"}"))), "wait=30");
        TestServer.Response wrongModel = server.upload(Packages.zip(OnnxGraphs.nocode("m", OnnxGraphs.mixed(),
                ", \"model\": \"model/other.onnx\"")), "wait=30");

        assertThat(withEntry.status()).isEqualTo(400);
        assertThat(withEntry.error()).contains("entry is not allowed with runtime onnx");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.error()).contains("runtime must be one of onnx");
        assertThat(noGraph.status()).isEqualTo(400);
        assertThat(noGraph.error()).contains("one .onnx file");
        assertThat(wrongModel.status()).isEqualTo(400);
        assertThat(wrongModel.error()).contains("model/other.onnx");
    }

    @Test
    void sessionOptionsComeFromPropertiesAndATypoFailsTheDeploy() {
        Map<String, Object> ok = server.deploy(Packages.zip(OnnxGraphs.nocode("opts", OnnxGraphs.mixed(),
                ", \"properties\": {\"intra_op_threads\": 2, \"optimization_level\": \"basic\"}")));
        Map<String, Object> typo = server.deploy(Packages.zip(OnnxGraphs.nocode("typo", OnnxGraphs.mixed(),
                ", \"properties\": {\"intra_op_thread\": 2}")));

        assertThat(ok).containsEntry("state", "READY");
        assertThat(typo).containsEntry("state", "FAILED");
        assertThat((String) typo.get("error")).contains("intra_op_thread").contains("intra_op_threads");
    }
}
