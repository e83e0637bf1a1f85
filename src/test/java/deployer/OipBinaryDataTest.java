package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import deployer.testing.Packages;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The binary tensor data extension, which {@code tritonclient.http} uses unless told not to: requests built byte for
 * byte as its {@code _get_inference_request} builds them (compact JSON, then each input's numpy bytes, the JSON's
 * length in {@code Inference-Header-Content-Length}), and answers read as its {@code InferResult} reads them.
 */
class OipBinaryDataTest extends ServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void runtime() {
        OnnxGraphs.provideRuntime(data);
    }

    /** One input as tritonclient's {@code InferInput(name, shape, datatype).set_data_from_numpy(array)} sends it. */
    private record Input(String name, List<Long> shape, String datatype, byte[] bytes) {

        Map<String, Object> json() {
            Map<String, Object> tensor = new LinkedHashMap<>();
            tensor.put("name", name);
            tensor.put("shape", shape);
            tensor.put("datatype", datatype);
            tensor.put("parameters", Map.of("binary_data_size", bytes.length));
            return tensor;
        }
    }

    /** An answer as {@code InferResult}: the JSON part, and each binary output's bytes by name. */
    private record Result(int status, Map<String, Object> json, Map<String, ByteBuffer> binary, String text) {

        Map<String, Object> output(String name) {
            assertThat(status).as(text).isEqualTo(200);
            return ((List<?>) json.get("outputs")).stream().map(TestServer::asMap)
                    .filter(o -> name.equals(o.get("name"))).findFirst().orElseThrow(() -> new AssertionError(text));
        }

        ByteBuffer bytes(String name) {
            output(name);
            return binary.get(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private Result infer(String model, Map<String, Object> request, List<Input> inputs) throws Exception {
        byte[] json = Json.write(request);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(json);
        inputs.forEach(i -> body.writeBytes(i.bytes()));
        return send(model, body.toByteArray(), Integer.toString(json.length));
    }

    private Result send(String model, byte[] body, String headerLength) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri("/v2/models/" + model + "/infer"))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headerLength != null) {
            request.header("Inference-Header-Content-Length", headerLength);
        }
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        byte[] bytes = response.body();
        var length = response.headers().firstValue("Inference-Header-Content-Length");
        int jsonLength = length.map(Integer::parseInt).orElse(bytes.length);
        @SuppressWarnings("unchecked")
        Map<String, Object> parsed = (Map<String, Object>) Json.parse(java.util.Arrays.copyOf(bytes, jsonLength));
        Map<String, ByteBuffer> binary = new LinkedHashMap<>();
        int at = jsonLength;
        if (parsed.get("outputs") instanceof List<?> outputs) {
            for (Object o : outputs) {
                Map<String, Object> output = TestServer.asMap(o);
                if (output.get("parameters") instanceof Map<?, ?> p && p.get("binary_data_size") instanceof Number n) {
                    binary.put((String) output.get("name"), ByteBuffer.wrap(bytes, at, n.intValue()).slice());
                    at += n.intValue();
                }
            }
        }
        assertThat(at).as("the binary outputs' sizes add up to the body").isEqualTo(bytes.length);
        return new Result(response.statusCode(), parsed, binary, new String(bytes, 0, jsonLength,
                StandardCharsets.UTF_8));
    }

    private static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] strings(String... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String v : values) {
            byte[] utf8 = v.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(le(4).putInt(utf8.length).array());
            out.writeBytes(utf8);
        }
        return out.toByteArray();
    }

    @Test
    void everyDatatypeOfANoCodeGraphGoesInAndComesBackAsBinaryAsTritonclientSendsIt() throws Exception {
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("types", OnnxGraphs.types(), ""))))
                .containsEntry("state", "READY");
        List<Input> inputs = List.of(
                new Input("f32", List.of(1L, 2L), "FP32", le(8).putFloat(1.5f).putFloat(-0.1f).array()),
                new Input("f64", List.of(1L, 2L), "FP64", le(16).putDouble(Math.PI).putDouble(-1e300).array()),
                new Input("i32", List.of(1L, 2L), "INT32", le(8).putInt(Integer.MIN_VALUE).putInt(7).array()),
                new Input("i64", List.of(1L, 2L), "INT64", le(16).putLong(Long.MAX_VALUE).putLong(-3).array()),
                new Input("b", List.of(1L, 2L), "BOOL", new byte[] {1, 0}),
                new Input("s", List.of(1L, 1L), "BYTES", strings("héllo")));
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("inputs", inputs.stream().map(Input::json).toList());
        // tritonclient with no outputs named asks for all of them as binary
        request.put("parameters", Map.of("binary_data_output", true));

        Result r = infer("types", request, inputs);

        assertThat(r.output("f32_out")).containsEntry("datatype", "FP32").containsEntry("shape", List.of(1L, 2L))
                .doesNotContainKey("data");
        assertThat(r.bytes("f32_out").getFloat()).isEqualTo(1.5f);
        assertThat(r.bytes("f32_out").getFloat(4)).isEqualTo(-0.1f);
        assertThat(r.bytes("f64_out").getDouble(0)).isEqualTo(Math.PI);
        assertThat(r.bytes("f64_out").getDouble(8)).isEqualTo(-1e300);
        assertThat(r.output("i32_out")).containsEntry("datatype", "INT32");
        assertThat(r.bytes("i32_out").getInt(0)).isEqualTo(Integer.MIN_VALUE);
        assertThat(r.bytes("i64_out").getLong(0)).isEqualTo(Long.MAX_VALUE);
        assertThat(r.bytes("i64_out").getLong(8)).isEqualTo(-3);
        assertThat(r.output("b_out")).containsEntry("datatype", "BOOL");
        ByteBuffer b = r.bytes("b_out");
        assertThat(new byte[] {b.get(), b.get()}).containsExactly(1, 0);
        ByteBuffer s = r.bytes("s_out");
        byte[] text = new byte[s.getInt()];
        s.get(text);
        assertThat(new String(text, StandardCharsets.UTF_8)).isEqualTo("héllo");
        assertThat(s.hasRemaining()).isFalse();
    }

    @Test
    void theNoCodeIrisAnswersBinaryAndJsonOutputsAsEachOutputAsks() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        java.nio.file.Path example = java.nio.file.Path.of("cells/iris-onnx-nocode");
        files.put("deploy.json", java.nio.file.Files.readAllBytes(example.resolve("deploy.json")));
        files.put("model/model.onnx", java.nio.file.Files.readAllBytes(example.resolve("model/model.onnx")));
        assertThat(server.deploy(Packages.zip(files))).containsEntry("state", "READY");
        Input rows = new Input("input", List.of(2L, 4L), "FP32", le(32).putFloat(1.4f).putFloat(0.2f).putFloat(5.1f)
                .putFloat(3.5f).putFloat(6f).putFloat(2f).putFloat(7f).putFloat(3f).array());
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("id", "42");
        request.put("inputs", List.of(rows.json()));

        // InferRequestedOutput("output", binary_data=False): JSON data beside a binary input
        request.put("outputs", List.of(Map.of("name", "output", "parameters", Map.of("binary_data", false))));
        Result asJson = infer("iris-onnx-nocode", request, List.of(rows));
        assertThat(asJson.json()).containsEntry("id", "42");
        List<?> data = (List<?>) asJson.output("output").get("data");
        assertThat(data).hasSize(6);
        assertThat(asJson.binary()).isEmpty();

        // InferRequestedOutput("output"): binary_data defaults to true
        request.put("outputs", List.of(Map.of("name", "output", "parameters", Map.of("binary_data", true))));
        Result asBinary = infer("iris-onnx-nocode", request, List.of(rows));
        assertThat(asBinary.output("output")).containsEntry("shape", List.of(2L, 3L))
                .containsEntry("parameters", Map.of("binary_data_size", 24L));
        ByteBuffer probabilities = asBinary.bytes("output");
        List<Object> read = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            read.add(probabilities.getFloat());
        }
        // the same floats: JSON writes each as its shortest decimal
        assertThat(read).isEqualTo(data.stream().map(v -> ((Number) v).floatValue()).toList());
        assertThat((Float) read.get(1)).as("setosa").isGreaterThan(0.99f);

        // no outputs named, all asked as binary (tritonclient's default): the runtime's arrays written as they are
        request.remove("outputs");
        request.put("parameters", Map.of("binary_data_output", true));
        Result all = infer("iris-onnx-nocode", request, List.of(rows));
        assertThat(all.json()).isEqualTo(asBinary.json());
        assertThat(all.bytes("output")).isEqualTo(asBinary.bytes("output"));
    }

    @Test
    void aZipMapClassifierAskedForEverythingAsBinaryKeepsItsClassesBesideTheBytes() throws Exception {
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("classifier", OnnxGraphs.classifier(), ""))))
                .containsEntry("state", "READY");
        Input row = new Input("input", List.of(1L, 4L), "FP32", le(16).putFloat(0).putFloat(2).putFloat(0)
                .putFloat(0).array());
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("inputs", List.of(row.json()));
        request.put("parameters", Map.of("binary_data_output", true));

        Result r = infer("classifier", request, List.of(row));

        assertThat(r.output("label")).containsEntry("datatype", "INT64");
        assertThat(r.bytes("label").getLong()).isEqualTo(1);
        assertThat(r.output("probabilities")).containsEntry("datatype", "FP32")
                .containsEntry("parameters", Map.of("classes", "0,1,2", "binary_data_size", 12L));
        ByteBuffer p = r.bytes("probabilities");
        assertThat(p.getFloat(4)).isGreaterThan(p.getFloat(0)).isGreaterThan(0.5f);
    }

    @Test
    void aScriptModelGetsBinaryInputsAsTheJsonFormWouldGiveThem() throws Exception {
        server.deploy(Packages.zip(TestModels.scripted("summer", "Summer", "", """
                Map<String, Object> in = (Map<String, Object>) input;
                Map<String, Object> x = (Map<String, Object>) in.get("x");
                double sum = 0;
                for (Object v : (java.util.List<?>) x.get("data")) {
                    sum += ((Number) v).doubleValue();
                }
                Map<String, Object> t = (Map<String, Object>) in.get("t");
                return Map.of("sum", sum, "text", t.get("data"), "types", x.get("datatype") + " " + x.get("shape"));
                """)));
        Input x = new Input("x", List.of(3L), "UINT8", new byte[] {1, 2, (byte) 250});
        Input t = new Input("t", List.of(2L), "BYTES", strings("a", ""));
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("inputs", List.of(x.json(), t.json()));

        Result r = infer("summer", request, List.of(x, t));

        assertThat(r.output("sum")).containsEntry("data", List.of(253.0));
        assertThat(r.output("text")).containsEntry("data", List.of("a", ""));
        assertThat(r.output("types")).containsEntry("data", List.of("UINT8 [3]"));
    }

    @Test
    void sizesThatDoNotAddUpAreRefusedNamingTheTensor() throws Exception {
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("regression", OnnxGraphs.regression(), ""))))
                .containsEntry("state", "READY");
        byte[] two = le(16).putDouble(1).putDouble(2).array();
        Map<String, Object> request = Map.of("inputs", List.of(new Input("x", List.of(1L, 2L), "FP64", two).json()));
        byte[] json = Json.write(request);
        byte[] body = new byte[json.length + two.length];
        System.arraycopy(json, 0, body, 0, json.length);
        System.arraycopy(two, 0, body, json.length, two.length);

        Result good = send("regression", body, Integer.toString(json.length));
        assertThat(good.output("y")).containsEntry("data", List.of(2.0)); // 1·0.5 + 2·0.25 + 1

        Result shortBody = send("regression", java.util.Arrays.copyOf(body, body.length - 3),
                Integer.toString(json.length));
        assertThat(shortBody.status()).isEqualTo(400);
        assertThat(shortBody.text()).contains("input \\\"x\\\"").contains("16 bytes, but 13 are left");

        byte[] extra = java.util.Arrays.copyOf(body, body.length + 5);
        assertThat(send("regression", extra, Integer.toString(json.length)).text())
                .contains("5 bytes follow the request's JSON");

        Map<String, Object> wrongShape = Map.of("inputs", List.of(new Input("x", List.of(1L, 3L), "FP64", two)
                .json()));
        Result misfit = infer("regression", wrongShape, List.of(new Input("x", List.of(1L, 3L), "FP64", two)));
        assertThat(misfit.status()).isEqualTo(400);
        assertThat(misfit.text()).contains("input \\\"x\\\"").contains("3 values of FP64 take 24");

        assertThat(send("regression", body, "9999999").text()).contains("Inference-Header-Content-Length");
        assertThat(send("regression", body, "ten").status()).isEqualTo(400);
        Result noHeader = send("regression", json, null);
        assertThat(noHeader.status()).isEqualTo(400);
        assertThat(noHeader.text()).contains("binary_data_size").contains("Inference-Header-Content-Length");
    }

    @Test
    void theServerSaysItSpeaksTheExtension() {
        TestServer.Response r = server.send(HttpRequest.newBuilder(server.uri("/v2")).GET());
        assertThat(r.object().get("extensions")).isEqualTo(List.of("model_repository", "binary_tensor_data"));
    }
}
