package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every example in cells/ deployed with {@code deployer deploy cells/X} and scored with its README's answer. */
class ExamplesCliTest extends CliTest {

    static final String SETOSA = "{\"features\":[5.1,3.5,1.4,0.2]}";
    static final String BATCH = "{\"instances\":[[5.1,3.5,1.4,0.2],[7.0,3.2,4.7,1.4],[6.3,3.3,6.0,2.5]]}";

    @Test
    void echo() throws Exception {
        deploy("echo");

        assertThat(predict("echo", "{\"hello\":\"world\"}")).isEqualTo(Map.of("echo", Map.of("hello", "world")));
    }

    @Test
    void iris() throws Exception {
        Cli.Run run = deploy("iris");

        assertThat(run.err()).contains("left out 3 files not marked deployable by \"files\": README.md, "
                + "train/Train.java, train/iris.csv");
        assertThat(predict("iris", SETOSA)).isEqualTo(Map.of("class", "setosa",
                "probabilities", Map.of("setosa", 0.9973, "versicolor", 0.0027, "virginica", 0.0)));
    }

    @Test
    void irisOnnx() throws Exception {
        deploy("iris-onnx");

        assertThat(predict("iris-onnx", SETOSA)).isEqualTo(Map.of("class", "setosa",
                "probabilities", Map.of("setosa", 0.9909, "versicolor", 0.0091, "virginica", 0.0)));
        assertThat(classes(predict("iris-onnx", BATCH))).containsExactly("setosa", "versicolor", "virginica");
    }

    @Test
    void irisTribuo() throws Exception {
        Cli.Run run = deploy("iris-tribuo");

        assertThat(run.err()).contains("left out", "train/Train.java");
        assertThat(predict("iris-tribuo", SETOSA)).isEqualTo(Map.of("class", "setosa",
                "probabilities", Map.of("setosa", 0.9909, "versicolor", 0.0091, "virginica", 0.0)));
        assertThat(classes(predict("iris-tribuo", BATCH))).containsExactly("setosa", "versicolor", "virginica");
    }

    private Cli.Run deploy(String example) {
        Cli.Run run = cli.run(server.with("deploy", "cells/" + example));
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith(example + " v1 READY on port ");
        return run;
    }

    private Map<?, ?> predict(String model, String json) throws Exception {
        Cli.Run run = cli.run(server.with("predict", model, json));
        assertThat(run.exit()).as(run.toString()).isZero();
        return (Map<?, ?>) Json.parse(run.out().getBytes(StandardCharsets.UTF_8));
    }

    private static List<Object> classes(Map<?, ?> batch) {
        return ((List<?>) batch.get("predictions")).stream().map(p -> (Object) ((Map<?, ?>) p).get("class"))
                .toList();
    }
}
