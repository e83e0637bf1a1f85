package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scoring path needs nothing of the launcher's agent (no opened {@code java.lang}): started without it, a
 * model still runs on its own port's thread, under its own context loader, on both routes.
 */
class ScoringWithoutAgentTest {

    @TempDir
    Path data;

    @TempDir
    Path work;

    @Test
    void modelCodeRunsOnItsOwnPortsThreadsWithoutTheAgent() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "deployer.Main", "serve", "--port", "0", "--data",
                data.toString(), "--token", TestServer.TOKEN, "--cell-ports", "0");
        Path log = work.resolve("server.log");
        ChildHttp http = new ChildHttp();
        try (ChildServer child = ChildServer.launch(command, Map.of(), data, log)) {
            Map<String, byte[]> files = TestModels.scripted("agentless", "Agentless", "", """
                    SCRATCH.set("seen");
                    return Map.of("thread", Thread.currentThread().getName(),
                            "ownLoader", Thread.currentThread().getContextClassLoader() == getClass().getClassLoader());
                    """, "private static final ThreadLocal<String> SCRATCH = new ThreadLocal<>();");
            Map<String, Object> d = http.upload(child, Packages.zip(files), "wait=60").object();
            assertThat(d).containsEntry("state", "READY");
            URI cellPort = URI.create("http://127.0.0.1:" + d.get("port") + "/predict");

            Map<String, Object> onCell = http.post(cellPort, "{}").object();
            Map<String, Object> viaGateway = http.post(child.uri("/models/agentless/predict"), "{}").object();

            assertThat((String) onCell.get("thread")).startsWith("cell-agentless-");
            assertThat(onCell).containsEntry("ownLoader", true);
            assertThat(viaGateway).containsEntry("ownLoader", true);
            assertThat((String) viaGateway.get("thread")).doesNotStartWith("deployer-http");
            assertThat(child.terminate()).isIn(0, 143);
        }
        assertThat(Files.readString(log)).doesNotContain("add-opens").doesNotContain("cell workers only");
    }
}
