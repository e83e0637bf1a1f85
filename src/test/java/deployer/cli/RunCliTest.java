package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code deployer run DIR}: compile, load and score in this process, no server; every stage timed. */
class RunCliTest {

    static final String SETOSA = "{\"features\":[5.1,3.5,1.4,0.2]}";
    static final String BATCH = "{\"instances\":[[5.1,3.5,1.4,0.2],[7.0,3.2,4.7,1.4],[6.3,3.3,6.0,2.5]]}";

    @TempDir
    Path work;

    final Cli cli = Cli.withoutEnvironment();

    @Test
    void echoAnswersItsSampleAsItsReadmeSays() throws Exception {
        Cli.Run run = cli.run("run", "cells/echo");

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(json(run)).isEqualTo(Map.of("echo", Map.of("hello", "world")));
        assertThat(run.err()).containsPattern("compile +[0-9.]+ ms").containsPattern("load +[0-9.]+ ms")
                .containsPattern("prepare +[0-9.]+ ms").containsPattern("score +[0-9.]+ ms")
                .containsPattern("reply +[0-9.]+ ms").contains("status 200")
                .contains("INFO echo v1 - echo v1 loaded");
    }

    @ParameterizedTest
    @ValueSource(strings = {"iris", "iris-onnx", "iris-tribuo"})
    void everyIrisExampleAnswersItsReadmesSetosa(String example) throws Exception {
        Cli.Run run = cli.run("run", "cells/" + example, "--input", SETOSA);
        Cli.Run batch = cli.run("run", "cells/" + example, "--input", BATCH);

        assertThat(run.exit()).as(run.toString()).isZero();
        Map<?, ?> setosa = example.equals("iris")
                ? Map.of("setosa", 0.9973, "versicolor", 0.0027, "virginica", 0.0)
                : Map.of("setosa", 0.9909, "versicolor", 0.0091, "virginica", 0.0);
        assertThat(json(run)).isEqualTo(Map.of("class", "setosa", "probabilities", setosa));
        assertThat(run.err()).contains("left out");
        assertThat(batch.exit()).as(batch.toString()).isZero();
        assertThat(((List<?>) json(batch).get("predictions")).stream().map(p -> (Object) ((Map<?, ?>) p).get("class")).toList())
                .containsExactly("setosa", "versicolor", "virginica");
    }

    @Test
    void aNoCodeOnnxPackageGetsTheRuntimeOfTheDataFolder() throws Exception {
        Path data = work.resolve("data");
        deployer.OnnxGraphs.provideRuntime(data);

        Cli.Run run = cli.run("run", "cells/iris-onnx-nocode", "--data", data.toString());
        Cli.Run fromEnv = new Cli(Map.of("DEPLOYER_DATA", data.toString())).run("run", "cells/iris-onnx-nocode",
                "--input", "{\"instances\": [[1.4, 0.2, 5.1, 3.5], [4.7, 1.4, 7.0, 3.2]]}");

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.err()).containsPattern("load +[0-9.]+ ms").contains("status 200");
        List<?> rows = (List<?>) json(run).get("predictions");
        assertThat(rows).hasSize(1);
        assertThat(((List<?>) rows.get(0)).stream().map(p -> ((Number) p).doubleValue()).toList())
                .satisfies(p -> assertThat(p.get(1)).isCloseTo(0.9909, org.assertj.core.api.Assertions.within(1e-3)));
        assertThat(fromEnv.exit()).as(fromEnv.toString()).isZero();
        assertThat((List<?>) json(fromEnv).get("predictions")).hasSize(2);
        // Only read: what a run loads is not copied into the data folder
        assertThat(data.resolve("runtimes").toFile().list()).containsExactly(
                deployer.OnnxGraphs.onnxRuntimeJar().getFileName().toString());
    }

    @Test
    void aNoCodeOnnxPackageWithoutARuntimeSaysWhereToPutOne() {
        Path data = work.resolve("empty-data");

        Cli.Run run = cli.run("run", "cells/iris-onnx-nocode", "--data", data.toString());

        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("runtime onnx needs ONNX Runtime for Java")
                .contains(data.resolve("runtimes").toString());
    }

    @Test
    void aFailingScoreIsExit1WithTheModelsFrames() throws Exception {
        Path dir = work.resolve("fails");
        DeployPackingTest.write(dir, "deploy.json", "{\"name\": \"fails\", \"entry\": \"example.Fails\", "
                + "\"files\": [\"serving/*.java\"], \"health\": {\"sample\": {}}}");
        DeployPackingTest.write(dir, "serving/Fails.java", """
                package example;

                public class Fails implements deployer.spi.Model {
                    public void load(deployer.spi.ModelContext context) {}

                    public Object score(Object input) {
                        return helper(null);
                    }

                    private int helper(String s) {
                        return s.length();
                    }
                }
                """);

        Cli.Run run = cli.run("run", dir.toString());

        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("deployer: score() failed: java.lang.NullPointerException")
                .contains("\tat cell-fails-v1//example.Fails.helper(Fails.java:11)")
                .contains("\tat cell-fails-v1//example.Fails.score(Fails.java:7)");
    }

    @Test
    void aCompileErrorShowsJavacsCaretAndIsExit1() throws Exception {
        Path dir = work.resolve("broken");
        DeployPackingTest.write(dir, "deploy.json", "{\"name\": \"broken\", \"entry\": \"example.Broken\", "
                + "\"files\": [\"serving/*.java\"]}");
        DeployPackingTest.write(dir, "serving/Broken.java", "package example;\n\npublic class Broken {\n"
                + "    int x = ;\n}\n");

        Cli.Run run = cli.run("run", dir.toString(), "--input", "{}");

        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("serving/Broken.java:4: error: illegal start of expression\n"
                + "    int x = ;\n"
                + "            ^");
    }

    @Test
    void inputTheModelRejectsIsItsStatusAndExit1() {
        Cli.Run run = cli.run("run", "cells/iris", "--input", "{\"features\":[1]}");

        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("status 400");
        assertThat(run.out()).contains("features must be an array of 4 numbers");
    }

    @Test
    void noSampleAndNoInputSaysWhatToPass() throws Exception {
        Path dir = work.resolve("nosample");
        DeployPackingTest.write(dir, "deploy.json", "{\"name\": \"nosample\"}");

        Cli.Run run = cli.run("run", dir.toString());

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).endsWith("\ndeployer: deploy.json has no health.sample to score: pass --input JSON\n");
    }

    private static Map<?, ?> json(Cli.Run run) throws Exception {
        return (Map<?, ?>) Json.parse(run.out().getBytes(StandardCharsets.UTF_8));
    }
}
