package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code deployer new} for every template, then {@code deploy} of what it made, then {@code predict}. */
class TemplatesTest extends CliTest {

    static final String SAMPLE = "{\"features\": {\"sepal_length\": 5.1, \"sepal_width\": 3.5, "
            + "\"petal_length\": 1.4, \"petal_width\": 0.2}}";
    /** Where the build put the libraries; surefire passes Maven's local repository. */
    static final String REPO = System.getProperty("deployer.test.mavenRepo",
            Path.of(System.getProperty("user.home"), ".m2", "repository").toString());

    @ParameterizedTest
    @ValueSource(strings = {"basic", "onnx", "tribuo"})
    void newFolderDeploysAsItIsAndPredicts(String template) throws Exception {
        String name = "from-" + template;
        Path dir = work.resolve(name);

        Cli.Run made = cli.run("new", name, "--template", template, "--dir", dir.toString(), "--maven-repo", REPO);

        assertThat(made.exit()).as(made.toString()).isZero();
        assertThat(dir.resolve("serving/From" + cap(template) + "Model.java")).isRegularFile();
        assertThat(Files.readString(dir.resolve("deploy.json"))).contains("\"name\": \"" + name + "\"")
                .doesNotContain("{{");
        assertThat(made.out()).contains("next:", "cd " + dir, "deployer deploy .", "deployer predict " + name + " '{");

        Cli.Run deployed = cli.run(server.with("deploy", dir.toString()));

        assertThat(deployed.exit()).as(deployed.toString()).isZero();
        assertThat(deployed.out()).contains(name + " v1 READY on port ");
        assertThat(deployed.err()).contains("left out 1 file not marked deployable by \"files\": README.md");

        Cli.Run predicted = cli.run(server.with("predict", name, SAMPLE));

        assertThat(predicted.exit()).as(predicted.toString()).isZero();
        Map<?, ?> answer = (Map<?, ?>) Json.parse(predicted.out().getBytes(StandardCharsets.UTF_8));
        assertThat(answer.get("class")).isEqualTo("setosa");
        assertThat(((Map<?, ?>) answer.get("probabilities")).keySet().stream().map(String::valueOf).toList())
                .containsExactly("setosa", "versicolor", "virginica");
    }

    @Test
    void printedPredictCommandIsTheHealthSample() {
        Path dir = work.resolve("printed");
        Cli.Run made = cli.run("new", "printed", "-t", "basic", "--dir", dir.toString());

        assertThat(made.exit()).as(made.toString()).isZero();
        assertThat(made.out()).contains("deployer predict printed '{\"features\":{\"sepal_length\":5.1,");
    }

    @Test
    void unknownTemplateNamesTheOnesThereAre() {
        Cli.Run run = cli.run("new", "x", "--template", "pytorch", "--dir", work.resolve("x").toString());

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err().strip()).isEqualTo("deployer: no template 'pytorch'; there are basic, onnx, onnx-nocode, tribuo");
    }

    @Test
    void badNameIsAUsageError() {
        Cli.Run run = cli.run("new", "Iris!", "--template", "basic", "--dir", work.resolve("x").toString());

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).startsWith("deployer: model name 'Iris!' must match");
        assertThat(work.resolve("x")).doesNotExist();
    }

    @Test
    void existingFolderIsNeverOverwritten() throws IOException {
        Path dir = Files.createDirectories(work.resolve("taken"));
        Files.writeString(dir.resolve("mine.txt"), "keep");

        Cli.Run run = cli.run("new", "taken", "--template", "basic", "--dir", dir.toString());

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("already exists");
        assertThat(dir.resolve("deploy.json")).doesNotExist();
    }

    @Test
    void missingLibrariesSayHowToFetchThem() throws IOException {
        Path dir = work.resolve("nolib");
        Path emptyRepo = Files.createDirectories(work.resolve("empty-repo"));

        Cli.Run run = cli.run("new", "nolib", "--template", "onnx", "--dir", dir.toString(),
                "--maven-repo", emptyRepo.toString());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("not in the local Maven repository " + emptyRepo,
                "mvn dependency:copy -Dartifact=com.microsoft.onnxruntime:onnxruntime:1.20.0 -DoutputDirectory="
                        + dir.resolve("lib"));
    }

    /** The tribuo template's libraries are the jars the build copies for cells/iris-tribuo: one list, kept equal. */
    @Test
    void tribuoTemplateLibrariesAreTheJarsOfTheTribuoExample() throws IOException {
        Properties descriptor = new Properties();
        try (var in = Files.newInputStream(Path.of("templates/tribuo/template.properties"))) {
            descriptor.load(in);
        }
        List<String> jars = Stream.of(descriptor.getProperty("libraries").split(",")).map(String::trim)
                .map(c -> c.split(":")[1] + "-" + c.split(":")[2] + ".jar").sorted().toList();
        try (Stream<Path> lib = Files.list(Path.of("cells/iris-tribuo/lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString()).sorted().toList()).isEqualTo(jars);
        }
    }

    private static String cap(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
