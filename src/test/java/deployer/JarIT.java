package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as users run it, after {@code package} (failsafe): {@code java -jar} starts without a JVM warning and
 * with the exit guard armed, and {@code bin/cds-archive} makes a class archive the JVM really maps
 * ({@code -Xshare:on} refuses to start on one it cannot use), once per jar, and {@code bin/deployer} starts from it.
 */
class JarIT {

    static final Path JAR = Path.of("target", "deployer.jar").toAbsolutePath();

    @TempDir
    Path data;

    @Test
    void javaDashJarStartsCleanWithTheExitGuardArmed() throws Exception {
        Path log = data.resolve("server.log");
        List<String> command = List.of(java(), "-jar", JAR.toString(), "serve", "--port", "0", "--data",
                data.resolve("d").toString(), "--token", TestServer.TOKEN, "--cell-ports", "0");
        try (ChildServer server = ChildServer.launch(command, Map.of(), data.resolve("d"), log)) {
            assertThat(server.port).isPositive();
            // The port file comes before the start has finished (restoring cells, the listening line): wait for it,
            // so the stop below does not cut the start short.
            Eventually.get(() -> {
                try {
                    return Files.readString(log);
                } catch (IOException e) {
                    return "";
                }
            }, text -> text.contains("deployer listening on"));
            assertThat(server.terminate()).isIn(0, 143);
        }
        String output = Files.readString(log);
        assertThat(output).doesNotContain("warning").doesNotContain("WARN")
                .doesNotContain("exit guard could not be installed").contains("deployer listening on");
    }

    @Test
    void theClassArchiveIsMadeOnceAndTheJvmMapsIt() throws Exception {
        Path jar = Files.copy(JAR, data.resolve("deployer.jar"));
        Run first = run(List.of("bash", Path.of("bin", "cds-archive").toAbsolutePath().toString(), jar.toString()));
        assertThat(first.status()).as(first.err()).isZero();
        Path archive = Path.of(first.out().trim());
        assertThat(archive).isRegularFile().hasParent(data);
        assertThat(first.err()).contains("making the class archive");

        Run again = run(List.of("bash", Path.of("bin", "cds-archive").toAbsolutePath().toString(), jar.toString()));
        assertThat(again.out().trim()).isEqualTo(archive.toString());
        assertThat(again.err()).as("made once per jar").isEmpty();

        Run mapped = run(List.of(java(), "-Xshare:on", "-XX:SharedArchiveFile=" + archive, "-jar", jar.toString(),
                "--version"));
        assertThat(mapped.status()).as(mapped.err()).isZero();
        assertThat(mapped.out()).startsWith("deployer ");
    }

    @Test
    void binDeployerStartsFromTheArchiveUnlessToldNotTo() throws Exception {
        String launcher = Path.of("bin", "deployer").toAbsolutePath().toString();
        Map<String, String> trace = Map.of("DEPLOYER_JAVA_OPTS", "-Xlog:class+load=info");

        Run shared = run(List.of("bash", launcher, "--version"), trace);
        Run plain = run(List.of("bash", launcher, "--version"), Map.of("DEPLOYER_JAVA_OPTS", "-Xlog:class+load=info",
                "DEPLOYER_CDS", "off"));

        assertThat(shared.status()).as(shared.err()).isZero();
        assertThat(shared.out()).contains("deployer.Main source: shared objects file (top)");
        assertThat(plain.out()).contains("deployer.Main source: file:").doesNotContain("(top)");
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private record Run(int status, String out, String err) {
    }

    private Run run(List<String> command) throws IOException, InterruptedException {
        return run(command, Map.of());
    }

    private Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        Path out = data.resolve("out-" + System.nanoTime());
        Path err = data.resolve("err-" + System.nanoTime());
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(command + " did not finish in 120 s");
        }
        return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
