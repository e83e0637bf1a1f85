package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Open Inference Protocol (KServe V2 REST), checked with the request and response examples of the protocol's
 * own specification ("Inference Request Examples"), field by field.
 */
class OipTest extends ServerTest {

    /**
     * The specification's example request, as printed there but for input1's data: printed as {@code [ true ]}, one
     * value for a shape of [3], which the protocol's own rule (data holds every element of the shape) refuses.
     */
    static final String SPEC_REQUEST = """
            {
              "id" : "42",
              "inputs" : [
                {
                  "name" : "input0",
                  "shape" : [ 2, 2 ],
                  "datatype" : "UINT32",
                  "data" : [ 1, 2, 3, 4 ]
                },
                {
                  "name" : "input1",
                  "shape" : [ 3 ],
                  "datatype" : "BOOL",
                  "data" : [ true, false, true ]
                }
              ],
              "outputs" : [
                {
                  "name" : "output0"
                }
              ]
            }
            """;

    /**
     * The specification's model: two inputs, and an output0 of shape [3, 2], FP32. It also says what it was given,
     * in a second output the request did not ask for (so it must not be returned).
     */
    private Map<String, Object> deploySpecModel() {
        Map<String, byte[]> files = TestModels.scripted("mymodel", "SpecModel", "", """
                Map<String, Object> inputs = (Map<String, Object>) input;
                return Map.of(
                        "output0", Map.of("shape", List.of(3, 2), "datatype", "FP32",
                                "data", List.of(1.0, 1.1, 2.0, 2.1, 3.0, 3.1)),
                        "seen", inputs);
                """);
        files.put("deploy.json", TestModels.bytes("""
                {"name": "mymodel", "entry": "example.SpecModel",
                 "inputs": [{"name": "input0", "datatype": "UINT32", "shape": [2, 2]},
                            {"name": "input1", "datatype": "BOOL", "shape": [3]}],
                 "outputs": [{"name": "output0", "datatype": "FP32", "shape": [3, 2]}]}
                """));
        return server.deploy(Packages.zip(files));
    }

    @Test
    void specificationExampleInferAnswersTheSpecificationsResponse() {
        Map<String, Object> d = deploySpecModel();

        for (URI uri : List.of(server.uri("/v2/models/mymodel/infer"),
                URI.create(d.get("url") + "/v2/models/mymodel/infer"),
                server.uri("/v2/models/mymodel/versions/1/infer"))) {
            TestServer.Response r = server.post(uri, SPEC_REQUEST);

            assertThat(r.status()).as(r.text()).isEqualTo(200);
            Map<String, Object> body = r.object();
            assertThat(body).containsEntry("id", "42").containsEntry("model_name", "mymodel")
                    .containsEntry("model_version", "1");
            List<?> outputs = (List<?>) body.get("outputs");
            assertThat(outputs).hasSize(1);
            Map<String, Object> output0 = TestServer.asMap(outputs.get(0));
            assertThat(output0).containsEntry("name", "output0").containsEntry("shape", List.of(3L, 2L))
                    .containsEntry("datatype", "FP32")
                    .containsEntry("data", List.of(1.0, 1.1, 2.0, 2.1, 3.0, 3.1));
        }
    }

    @Test
    void declaredInputsReachTheModelAsTypedArraysShapedAsTheTensors() {
        deploySpecModel();
        String natural = SPEC_REQUEST.replace("[ 1, 2, 3, 4 ]", "[ [ 1, 2 ], [ 3, 4 ] ]")
                .replace("\"name\" : \"output0\"", "\"name\" : \"seen\"");

        TestServer.Response r = server.post(server.uri("/v2/models/mymodel/infer"), natural);

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        Map<String, Object> seen = TestServer.asMap(((List<?>) r.object().get("outputs")).get(0));
        assertThat(seen).containsEntry("name", "seen").containsEntry("datatype", "BYTES");
        String given = (String) ((List<?>) seen.get("data")).get(0);
        // the manifest declares the inputs, so the model gets them as typed arrays shaped as the tensors
        assertThat(given).isEqualTo("{\"input0\":[[1,2],[3,4]],\"input1\":[true,false,true]}");
    }

    @Test
    void healthAndMetadataFollowTheProtocol() {
        deploySpecModel();

        assertThat(get("/v2/health/live").status()).isEqualTo(200);
        assertThat(get("/v2/health/ready").status()).isEqualTo(200);
        assertThat(get("/v2/models/mymodel/ready").object()).containsEntry("name", "mymodel")
                .containsEntry("ready", true);
        assertThat(get("/v2/models/mymodel/versions/1/ready").status()).isEqualTo(200);
        assertThat(get("/v2").object()).containsEntry("name", "deployer").containsKeys("version", "extensions");
        Map<String, Object> metadata = get("/v2/models/mymodel").object();
        assertThat(metadata).containsEntry("name", "mymodel").containsEntry("versions", List.of("1"))
                .containsEntry("platform", "deployer");
        assertThat((List<?>) metadata.get("inputs")).first().isEqualTo(
                Map.of("name", "input0", "datatype", "UINT32", "shape", List.of(2L, 2L)));
        assertThat((List<?>) metadata.get("outputs")).first().isEqualTo(
                Map.of("name", "output0", "datatype", "FP32", "shape", List.of(3L, 2L)));
    }

    @Test
    void errorsAreJsonWithAnErrorField() {
        deploySpecModel();

        TestServer.Response unknown = get("/v2/models/nobody");
        TestServer.Response noInputs = server.post(server.uri("/v2/models/mymodel/infer"), "{\"inputs\": []}");
        TestServer.Response badType = server.post(server.uri("/v2/models/mymodel/infer"),
                SPEC_REQUEST.replace("UINT32", "UINT33"));
        TestServer.Response wrongOutput = server.post(server.uri("/v2/models/mymodel/infer"),
                SPEC_REQUEST.replace("\"name\" : \"output0\"", "\"name\" : \"output9\""));
        TestServer.Response notServing = server.post(server.uri("/v2/models/mymodel/versions/7/infer"), SPEC_REQUEST);

        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.error()).contains("nobody");
        assertThat(noInputs.status()).isEqualTo(400);
        assertThat(noInputs.error()).contains("inputs");
        assertThat(badType.status()).isEqualTo(400);
        assertThat(badType.error()).contains("datatype");
        assertThat(wrongOutput.status()).isEqualTo(400);
        assertThat(wrongOutput.error()).contains("output9");
        assertThat(notServing.status()).isEqualTo(404);
    }

    @Test
    void aPlainPredictionBecomesOneInferredOutput() {
        server.deploy(Packages.zip(TestModels.scripted("plain", "Plain", "",
                "return List.of(List.of(1, 2, 3), List.of(4, 5, 6));")));

        TestServer.Response r = server.post(server.uri("/v2/models/plain/infer"),
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [0.5]}]}");

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(TestServer.asMap(((List<?>) r.object().get("outputs")).get(0)))
                .containsEntry("name", "output0").containsEntry("shape", List.of(2L, 3L))
                .containsEntry("datatype", "INT64").containsEntry("data", List.of(1L, 2L, 3L, 4L, 5L, 6L));
        assertThat(r.object()).doesNotContainKey("id");
    }

    private TestServer.Response get(String path) {
        return server.send(HttpRequest.newBuilder(server.uri(path)).GET());
    }
}
