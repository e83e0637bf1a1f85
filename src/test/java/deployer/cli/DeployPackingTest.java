package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code deployer deploy DIR} sends deploy.json and the files "files" marks deployable, and nothing else. */
class DeployPackingTest extends CliTest {

    static final String ECHO = """
            package example;

            public class Echo implements deployer.spi.Model {
                @Override
                public void load(deployer.spi.ModelContext context) {
                }

                @Override
                public Object score(Object input) {
                    return java.util.Collections.singletonMap("echo", input);
                }
            }
            """;

    @Test
    void onlyDeployableFilesReachTheServer() throws IOException {
        Path dir = folder("packed", "[\"serving/*.java\", \"model/*\"]");
        write(dir, "model/weights.bin", "w");
        write(dir, "model/deeper/not-matched.bin", "model/* does not cross folders");
        write(dir, "secrets.env", "PASSWORD=hunter2");
        write(dir, "train/data.csv", "1,2,3");

        Cli.Run run = cli.run(server.with("deploy", dir.toString(), "--json"));

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.err()).contains("packed 3 files", "deploy.json, model/weights.bin, serving/Echo.java")
                .contains("left out 3 files not marked deployable by \"files\": model/deeper/not-matched.bin, "
                        + "secrets.env, train/data.csv");
        Map<?, ?> d = (Map<?, ?>) Json.parse(run.out().getBytes(StandardCharsets.UTF_8));
        assertThat(server.stored("packed", d.get("deploy_id")))
                .contains("deploy.json", "model/weights.bin", "serving/Echo.java")
                .noneMatch(f -> f.contains("secrets") || f.startsWith("train") || f.contains("deeper"));
    }

    @Test
    void doubleStarCrossesFoldersAndAPatternMatchingNothingIsReported() throws IOException {
        Path dir = folder("globs", "[\"serving/*.java\", \"model/**\", \"lib/*.jar\"]");
        write(dir, "model/a/b/deep.txt", "deep");

        Cli.Run run = cli.run(server.with("deploy", dir.toString(), "--json"));

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.err()).contains("warning: \"files\" pattern 'lib/*.jar' matches no file");
        Map<?, ?> d = (Map<?, ?>) Json.parse(run.out().getBytes(StandardCharsets.UTF_8));
        assertThat(server.stored("globs", d.get("deploy_id"))).contains("model/a/b/deep.txt");
    }

    @Test
    void anArchiveIsSentAsItIs() throws IOException {
        Path dir = folder("zipped", "[\"serving/*.java\"]");
        Packer.Packed packed = Packer.pack(dir);
        Path zip = Files.move(packed.archive(), work.resolve("zipped.zip"));

        Cli.Run run = cli.run(server.with("deploy", zip.toString()));

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.err()).contains("uploading " + zip + " as it is");
        assertThat(run.out()).startsWith("zipped v1 READY on port ");
    }

    @Test
    void noWaitAnswersTheDeployIdAtOnce() throws IOException {
        Path dir = folder("later", "[\"serving/*.java\"]");

        Cli.Run run = cli.run(server.with("deploy", dir.toString(), "--no-wait"));

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out())
                .matches("(?s)later v1 accepted: deploy_id \\d+; `deployer status \\d+` shows how it goes\\n");
    }

    @Test
    void progressBarOnlyOnATerminal() throws IOException {
        Path dir = folder("quiet", "[\"serving/*.java\"]");

        Cli.Run run = cli.run(server.with("deploy", dir.toString()));

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.err()).doesNotContain("uploading", "\r");
    }

    private Path folder(String name, String files) throws IOException {
        Path dir = work.resolve(name);
        write(dir, "deploy.json",
                "{\"name\": \"" + name + "\", \"entry\": \"example.Echo\", \"files\": " + files + "}");
        write(dir, "serving/Echo.java", ECHO);
        return dir;
    }

    static void write(Path dir, String file, String text) throws IOException {
        Path path = dir.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }
}
