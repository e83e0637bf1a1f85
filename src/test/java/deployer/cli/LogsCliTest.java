package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** {@code deployer logs NAME [-f]} and {@code GET /api/models/{name}/logs}: one model's own lines, named. */
class LogsCliTest extends CliTest {

    static String talker(String className) {
        return """
                package example;

                public class %s implements deployer.spi.Model {
                    private System.Logger log;

                    @Override
                    public void load(deployer.spi.ModelContext context) {
                        log = context.logger();
                        log.log(System.Logger.Level.INFO, "loaded {0}", context.name());
                    }

                    @Override
                    public Object score(Object input) {
                        log.log(System.Logger.Level.WARNING, "scored " + input);
                        return input;
                    }
                }
                """.formatted(className);
    }

    private Path deployTalker(String name) throws IOException {
        Path dir = work.resolve(name);
        DeployPackingTest.write(dir, "deploy.json", "{\"name\": \"" + name + "\", \"entry\": \"example.Talker\", "
                + "\"files\": [\"serving/*.java\"]}");
        DeployPackingTest.write(dir, "serving/Talker.java", talker("Talker"));
        Cli.Run deployed = cli.run(server.with("deploy", dir.toString()));
        assertThat(deployed.exit()).as(deployed.toString()).isZero();
        return dir;
    }

    @Test
    void logsShowTheModelsOwnLinesOnlyEachNamingModelAndVersion() throws Exception {
        deployTalker("talker-a");
        deployTalker("talker-b");
        assertThat(server.predict("talker-a", "\"for a\"").statusCode()).isEqualTo(200);
        assertThat(server.predict("talker-b", "\"for b\"").statusCode()).isEqualTo(200);

        Cli.Run logs = cli.run(server.with("logs", "talker-a"));
        Cli.Run json = cli.run(server.with("logs", "talker-a", "--json"));

        assertThat(logs.exit()).as(logs.toString()).isZero();
        assertThat(logs.out()).containsPattern("INFO +talker-a v1 - loaded talker-a\n")
                .containsPattern("WARNING talker-a v1 - scored for a\n")
                .doesNotContain("talker-b", "for b");
        List<?> lines = (List<?>) Json.parse(json.out().getBytes(StandardCharsets.UTF_8));
        assertThat(lines).hasSize(2).allSatisfy(l -> {
            Map<?, ?> line = (Map<?, ?>) l;
            assertThat(line.keySet().stream().map(String::valueOf).toList())
                    .containsExactly("seq", "time", "level", "model", "version", "message");
            assertThat(line.get("model")).isEqualTo("talker-a");
            assertThat(line.get("version")).isEqualTo(1L);
        });
    }

    @Test
    void sinceGivesOnlyTheNewLinesAndAnUnknownModelIs404() throws Exception {
        deployTalker("talker-since");
        Cli.Run first = cli.run(server.with("logs", "talker-since", "--json"));
        long seq = ((Number) ((Map<?, ?>) ((List<?>) Json.parse(first.out().getBytes(StandardCharsets.UTF_8)))
                .get(0)).get("seq")).longValue();
        server.predict("talker-since", "\"later\"");

        Cli.Run after = cli.run(server.with("logs", "talker-since", "--since", String.valueOf(seq)));
        Cli.Run unknown = cli.run(server.with("logs", "nobody-here"));

        assertThat(after.out()).contains("scored later").doesNotContain("loaded");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).isEqualTo("deployer: no model named \"nobody-here\" (HTTP 404)\n");
    }

    @Test
    void followPrintsLinesAsTheModelWritesThem() throws Exception {
        deployTalker("talker-follow");
        Path out = work.resolve("follow.out");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), "deployer.Main", "logs", "talker-follow",
                "-f"));
        command.addAll(List.of(server.flags()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("DEPLOYER_"));
        Process follow = builder.start();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60))
                    .until(() -> Files.readString(out).contains("loaded talker-follow"));
            server.predict("talker-follow", "\"while following\"");
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> Files.readString(out).contains("scored while following"));
            assertThat(follow.isAlive()).isTrue();
        } finally {
            follow.destroy();
            follow.waitFor();
        }
    }
}
