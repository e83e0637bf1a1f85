package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Python client (clients/python) against a real server: runs its unittest suite in a child {@code python3}
 * with this server's URL and token in the environment. Skipped only when there is no {@code /usr/bin/python3};
 * inside Python, the numpy tests skip themselves when numpy is not installed.
 */
class PythonClientTest extends CliTest {

    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Path CLIENT = Path.of("clients", "python");

    @Test
    void everyCallOfThePythonClientWorksAgainstARealServer() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "no " + PYTHON + ": install Debian's python3 (and python3-numpy)");
        Path log = work.resolve("unittest.log");
        ProcessBuilder builder = new ProcessBuilder(PYTHON.toString(), "-m", "unittest", "-v")
                .directory(CLIENT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("DEPLOYER_") || k.equals("XDG_CONFIG_HOME"));
        env.put("HOME", work.toString());
        env.put("DEPLOYER_TEST_URL", server.url());
        env.put("DEPLOYER_TEST_TOKEN", CliServer.TOKEN);
        env.put("DEPLOYER_TEST_REQUIRE_SERVER", "1");
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        Process python = builder.start();
        boolean ended = python.waitFor(300, TimeUnit.SECONDS);
        if (!ended) {
            python.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);

        assertThat(ended).as(output).isTrue();
        assertThat(python.exitValue()).as(output).isZero();
        assertThat(output).contains("test_numpy_arrays_round_trip_through_the_open_inference_protocol")
                .doesNotContain("skipped 'no server").containsPattern("Ran \\d+ tests");
    }
}
