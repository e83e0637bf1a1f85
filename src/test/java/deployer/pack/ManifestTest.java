package deployer.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.core.DeployerException;
import deployer.testing.Packages;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestTest {

    @Test
    void onlyNameGivenFillsEveryDefault() {
        Manifest manifest = Manifest.parse(Packages.manifest("{\"name\": \"iris\"}"));

        assertThat(manifest.name()).isEqualTo("iris");
        assertThat(manifest.entry()).isNull();
        assertThat(manifest.description()).isEmpty();
        assertThat(manifest.files()).isEmpty();
        assertThat(manifest.properties()).isEmpty();
        assertThat(manifest.health()).isEqualTo(new Manifest.Health(null, 5, 500, 2.0, 2000));
        assertThat(manifest.limits()).isEqualTo(new Manifest.Limits(64, 10_000, 120_000));
    }

    @Test
    void designExampleParsesEveryField() {
        Manifest manifest = Manifest.parse(Packages.manifest("""
                {
                  "name": "iris",
                  "entry": "example.IrisModel",
                  "description": "Logistic regression on the iris data",
                  "files": ["model/*", "serving/*.java", "lib/*.jar"],
                  "properties": {"threshold": "0.5"},
                  "health": {"sample": {"features": [5.1, 3.5, 1.4, 0.2]}, "attempts": 5, "first_delay_ms": 500,
                             "backoff": 2.0, "timeout_ms": 1000},
                  "limits": {"max_concurrent": 8, "timeout_ms": 3000, "load_timeout_ms": 60000}
                }
                """));

        assertThat(manifest.entry()).isEqualTo("example.IrisModel");
        assertThat(manifest.description()).isEqualTo("Logistic regression on the iris data");
        assertThat(manifest.files()).containsExactly("model/*", "serving/*.java", "lib/*.jar");
        assertThat(manifest.properties()).containsExactly(Map.entry("threshold", "0.5"));
        assertThat(manifest.health().sample()).isEqualTo(Map.of("features", List.of(5.1, 3.5, 1.4, 0.2)));
        assertThat(manifest.health().timeoutMs()).isEqualTo(1000);
        assertThat(manifest.limits()).isEqualTo(new Manifest.Limits(8, 3000, 60_000));
    }

    @Test
    void sampleUsesJdkTypesWithLongForIntegers() {
        Manifest manifest = Manifest.parse(Packages.manifest(
                "{\"name\": \"m\", \"health\": {\"sample\": {\"n\": 3, \"x\": 0.5, \"ok\": true, \"s\": \"t\","
                        + " \"none\": null, \"list\": [1, [2]]}}}"));

        @SuppressWarnings("unchecked")
        Map<String, Object> sample = (Map<String, Object>) manifest.health().sample();
        assertThat(sample.get("n")).isEqualTo(3L);
        assertThat(sample.get("x")).isEqualTo(0.5);
        assertThat(sample.get("ok")).isEqualTo(true);
        assertThat(sample.get("s")).isEqualTo("t");
        assertThat(sample).containsEntry("none", null);
        assertThat(sample.get("list")).isEqualTo(List.of(1L, List.of(2L)));
    }

    @Test
    void numberAndBooleanPropertiesBecomeTheirText() {
        Manifest manifest = Manifest.parse(Packages.manifest(
                "{\"name\": \"m\", \"properties\": {\"threshold\": 0.5, \"k\": 3, \"debug\": true}}"));

        assertThat(manifest.properties()).containsExactly(
                Map.entry("threshold", "0.5"), Map.entry("k", "3"), Map.entry("debug", "true"));
    }

    @Test
    void nullForAnOptionalFieldMeansAbsent() {
        Manifest manifest = Manifest.parse(Packages.manifest("{\"name\": \"m\", \"entry\": null, \"health\": null}"));

        assertThat(manifest.entry()).isNull();
        assertThat(manifest.health()).isEqualTo(Manifest.Health.DEFAULT);
    }

    @Test
    void missingNameIsRequired() {
        assertRejected("{\"entry\": \"a.B\"}").hasMessage("deploy.json: name is required, e.g. \"name\": \"iris\"");
    }

    @Test
    void badNameQuotesTheRule() {
        assertRejected("{\"name\": \"Iris!\"}")
                .hasMessage("deploy.json: model name 'Iris!' must match [a-z0-9][a-z0-9._-]{0,62}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"name\": 42}", "{\"name\": [\"iris\"]}"})
    void nameOfTheWrongTypeIsRejected(String json) {
        assertRejected(json).hasMessageStartingWith("deploy.json: name must be a string");
    }

    @Test
    void checkNameAcceptsGoodNamesAndRefusesOthers() {
        assertThat(Manifest.checkName("iris-v2.1_x")).isEqualTo("iris-v2.1_x");
        assertThatThrownBy(() -> Manifest.checkName("Iris!"))
                .isInstanceOf(DeployerException.class)
                .hasMessage("model name 'Iris!' must match [a-z0-9][a-z0-9._-]{0,62}");
        assertThatThrownBy(() -> Manifest.checkName("a".repeat(64))).isInstanceOf(DeployerException.class);
        assertThatThrownBy(() -> Manifest.checkName("-iris")).isInstanceOf(DeployerException.class);
        assertThatThrownBy(() -> Manifest.checkName(null)).isInstanceOf(DeployerException.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"name\": \"m\", \"health\": {\"attempts\": \"five\"}} | deploy.json: health.attempts must be a whole number from 1 to 50, not \"five\"",
        "{\"name\": \"m\", \"health\": {\"attempts\": 0}}        | deploy.json: health.attempts must be a whole number from 1 to 50, not 0",
        "{\"name\": \"m\", \"health\": {\"attempts\": 4294967301}} | deploy.json: health.attempts must be a whole number from 1 to 50, not 4294967301",
        "{\"name\": \"m\", \"health\": {\"attempts\": 2.5}}      | deploy.json: health.attempts must be a whole number from 1 to 50, not 2.5",
        "{\"name\": \"m\", \"health\": {\"first_delay_ms\": -1}}  | deploy.json: health.first_delay_ms must be a whole number from 0 to 600000, not -1",
        "{\"name\": \"m\", \"health\": {\"backoff\": 0.5}}       | deploy.json: health.backoff must be a number from 1.0 to 10.0, not 0.5",
        "{\"name\": \"m\", \"health\": {\"timeout_ms\": true}}   | deploy.json: health.timeout_ms must be a whole number from 1 to 600000, not true",
        "{\"name\": \"m\", \"limits\": {\"max_concurrent\": 0}}  | deploy.json: limits.max_concurrent must be a whole number from 1 to 10000, not 0",
        "{\"name\": \"m\", \"limits\": {\"timeout_ms\": \"1s\"}} | deploy.json: limits.timeout_ms must be a whole number from 1 to 3600000, not \"1s\"",
        "{\"name\": \"m\", \"limits\": {\"load_timeout_ms\": 3600001}} | deploy.json: limits.load_timeout_ms must be a whole number from 1 to 3600000, not 3600001",
    })
    void numberOutOfRangeOrOfTheWrongTypeNamesItsField(String json, String message) {
        assertRejected(json).hasMessage(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"name\": \"m\", \"entry\": 3}                    | deploy.json: entry must be a Java class name",
        "{\"name\": \"m\", \"entry\": \"not a class\"}      | deploy.json: entry must be a Java class name",
        "{\"name\": \"m\", \"description\": {}}             | deploy.json: description must be a string",
        "{\"name\": \"m\", \"files\": \"model/*\"}          | deploy.json: files must be an array",
        "{\"name\": \"m\", \"files\": [\"model/*\", \"\"]}  | deploy.json: files[1] must be a non-empty string",
        "{\"name\": \"m\", \"files\": [7]}                  | deploy.json: files[0] must be a non-empty string",
        "{\"name\": \"m\", \"properties\": [\"a\"]}         | deploy.json: properties must be an object",
        "{\"name\": \"m\", \"properties\": {\"k\": [1]}}    | deploy.json: properties.k must be a string",
        "{\"name\": \"m\", \"properties\": {\"k\": null}}   | deploy.json: properties.k must be a string",
        "{\"name\": \"m\", \"health\": 5}                   | deploy.json: health must be an object",
        "{\"name\": \"m\", \"limits\": []}                  | deploy.json: limits must be an object",
    })
    void fieldOfTheWrongTypeNamesIt(String json, String messageStart) {
        assertRejected(json).hasMessageStartingWith(messageStart);
    }

    @Test
    void unknownTopLevelKeyIsNamedWithTheAllowedOnes() {
        assertRejected("{\"name\": \"m\", \"helth\": {}}").hasMessage("deploy.json: unknown key 'helth'; the allowed "
                + "keys are name, entry, description, files, properties, health, limits, inputs, outputs, runtime, model, batching, payloads, isolation, jvm");
    }

    @Test
    void runtimeAndModelAreReadAndEntryIsNotAllowedBesideThem() {
        Manifest m = Manifest.parse(Packages.manifest(
                "{\"name\": \"m\", \"runtime\": \"onnx\", \"model\": \"model/iris.onnx\"}"));
        assertThat(m.runtime()).isEqualTo("onnx");
        assertThat(m.model()).isEqualTo("model/iris.onnx");
        assertThat(Manifest.parse(Packages.manifest("{\"name\": \"m\"}")).runtime()).isNull();
        assertRejected("{\"name\": \"m\", \"runtime\": \"onnx\", \"entry\": \"a.B\"}")
                .hasMessageContaining("entry is not allowed with runtime onnx");
        assertRejected("{\"name\": \"m\", \"runtime\": \"pmml\"}")
                .hasMessageContaining("runtime must be one of onnx");
        assertRejected("{\"name\": \"m\", \"runtime\": \"onnx\", \"model\": \"../x.onnx\"}")
                .hasMessageContaining("relative path inside the package");
        assertRejected("{\"name\": \"m\", \"model\": \"x.onnx\"}").hasMessageContaining("model needs a runtime");
    }

    @Test
    void unknownKeyInsideHealthIsNamedWithItsPath() {
        assertRejected("{\"name\": \"m\", \"health\": {\"atempts\": 3}}").hasMessage("deploy.json: unknown key "
                + "'health.atempts'; the allowed keys in health are sample, attempts, first_delay_ms, backoff, "
                + "timeout_ms");
    }

    @Test
    void unknownKeyInsideLimitsIsNamedWithItsPath() {
        assertRejected("{\"name\": \"m\", \"limits\": {\"max_concurent\": 3}}")
                .hasMessageStartingWith("deploy.json: unknown key 'limits.max_concurent'; the allowed keys in limits");
    }

    @Test
    void duplicateKeyIsRejected() {
        assertRejected("{\"name\": \"a\",\n \"name\": \"b\"}")
                .hasMessageStartingWith("deploy.json: duplicate key 'name'")
                .hasMessageContaining("line 2");
    }

    @Test
    void notJsonSaysSoWithLineAndColumn() {
        assertRejected("{\"name\": \"m\",\n  oops}")
                .hasMessageStartingWith("deploy.json: not valid JSON at line 2, column ");
    }

    @Test
    void trailingGarbageIsNotJson() {
        assertRejected("{\"name\": \"m\"} {}").hasMessageStartingWith("deploy.json: not valid JSON");
    }

    @Test
    void emptyFileAndNonObjectAreRejected() {
        assertRejected("").hasMessageStartingWith("deploy.json: the file is empty");
        assertRejected("[\"iris\"]").hasMessageStartingWith("deploy.json: must be a JSON object");
    }

    @Test
    void recordsRefuseOutOfRangeValuesToo() {
        assertThatThrownBy(() -> new Manifest.Limits(0, 1, 1))
                .isInstanceOf(DeployerException.class)
                .hasMessageContaining("limits.max_concurrent");
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(String json) {
        return assertThatThrownBy(() -> Manifest.parse(Packages.manifest(json)))
                .isInstanceOf(DeployerException.class)
                .satisfies(e -> assertThat(((DeployerException) e).kind())
                        .isEqualTo(DeployerException.Kind.BAD_REQUEST));
    }

    @Test
    void inputsAndOutputsDescribeTensors() {
        Manifest m = Manifest.parse(("{\"name\": \"m\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\","
                + " \"shape\": [-1, 4]}], \"outputs\": [{\"name\": \"y\", \"datatype\": \"INT64\", \"shape\": [1]}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));

        assertThat(m.inputs()).containsExactly(new Manifest.Tensor("x", "FP32", java.util.List.of(-1L, 4L)));
        assertThat(m.outputs()).containsExactly(new Manifest.Tensor("y", "INT64", java.util.List.of(1L)));
    }

    @Test
    void badTensorDescriptionsNameTheField() {
        assertRejected("{\"name\": \"m\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP33\", \"shape\": [1]}]}")
                .hasMessageContaining("inputs[0].datatype must be one of");
        assertRejected("{\"name\": \"m\", \"outputs\": [{\"name\": \"y\", \"datatype\": \"FP32\", \"shape\": [-2]}]}")
                .hasMessageContaining("outputs[0].shape");
        assertRejected("{\"name\": \"m\", \"inputs\": [{\"datatype\": \"FP32\", \"shape\": [1]}]}")
                .hasMessageContaining("inputs[0].name must be a non-empty string, not nothing");
        assertRejected("{\"name\": \"m\", \"inputs\": {}}").hasMessageContaining("inputs must be an array");
    }

    @Test
    void batchingTakesBothKeysAndIsAbsentByDefault() {
        assertThat(Manifest.parse(Packages.manifest("{\"name\": \"m\"}")).batching()).isNull();
        Manifest m = Manifest.parse(Packages.manifest(
                "{\"name\": \"m\", \"batching\": {\"max_batch_size\": 32, \"max_delay_ms\": 0}}"));
        assertThat(m.batching()).isEqualTo(new Manifest.Batching(32, 0));
    }

    @Test
    void badBatchingNamesTheField() {
        assertRejected("{\"name\": \"m\", \"batching\": {\"max_batch_size\": 32}}")
                .hasMessage("deploy.json: batching.max_delay_ms is required when batching is given, e.g."
                        + " {\"max_batch_size\": 32, \"max_delay_ms\": 2}");
        assertRejected("{\"name\": \"m\", \"batching\": {\"max_batch_size\": 0, \"max_delay_ms\": 2}}")
                .hasMessage("deploy.json: batching.max_batch_size must be a whole number from 1 to 4096, not 0");
        assertRejected("{\"name\": \"m\", \"batching\": {\"max_batch_size\": 8, \"max_delay_ms\": -1}}")
                .hasMessage("deploy.json: batching.max_delay_ms must be a whole number from 0 to 60000, not -1");
        assertRejected("{\"name\": \"m\", \"batching\": {\"max_batch\": 8, \"max_delay_ms\": 1}}")
                .hasMessageStartingWith("deploy.json: unknown key 'batching.max_batch'");
        assertRejected("{\"name\": \"m\", \"batching\": true}")
                .hasMessageStartingWith("deploy.json: batching must be an object");
    }
}
