package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A model that exhausts the heap under {@code bin/deployer}: the JVM ends at the first OutOfMemoryError
 * ({@code -XX:+ExitOnOutOfMemoryError}), the launcher's loop starts it again on the same data, and every READY model
 * is back. The launcher runs the server from the test class path ({@code DEPLOYER_CLASSPATH}) with a small heap.
 */
class RestartLoopTest extends ChildServerTest {

    @Test
    void modelExhaustingTheHeapEndsTheJvmAndTheLauncherBringsEveryReadyModelBack() throws Exception {
        byte[] steady = Packages.zip(TestModels.prebuilt(work, "{\"name\": \"steady\"}", "Steady", "",
                "return \"steady\";", ""));
        byte[] hog = Packages.zip(TestModels.prebuilt(work, "{\"name\": \"hog\"}", "Hog", "", """
                if ("eat".equals(input)) {
                    List<long[]> eaten = new ArrayList<>();
                    while (true) {
                        eaten.add(new long[1 << 20]);
                    }
                }
                return "hungry";
                """, ""));
        Path log = logs.resolve("launcher.log");
        String agent = ChildServer.javaWithExitGuard().size() > 1 ? ChildServer.javaWithExitGuard().get(1) : "";
        List<String> command = new ArrayList<>(List.of("bash", Path.of("bin", "deployer").toAbsolutePath().toString(),
                "serve", "--port", "0", "--data", data.toString(), "--token", TestServer.TOKEN, "--cell-ports", "0"));
        Map<String, String> env = Map.of("DEPLOYER_CLASSPATH", System.getProperty("java.class.path"),
                "DEPLOYER_JAVA_OPTS", "-Xmx192m " + agent);

        try (ChildServer first = ChildServer.launch(command, env, data, log)) {
            assertThat(http.upload(first, steady, "wait=60").object()).containsEntry("state", "READY");
            assertThat(http.upload(first, hog, "wait=60").object()).containsEntry("state", "READY");
            Files.delete(data.resolve("server.port"));

            try {
                http.post(first.uri("/models/hog/predict"), "\"eat\"");
            } catch (IOException expected) {
                // the JVM ended under the request
            }
            try {
                ChildServer second = first.restarted(data);
                for (String model : List.of("steady", "hog")) {
                    Eventually.get(() -> ChildHttp.<List<Map<String, Object>>>orElse(
                            () -> http.versions(second, model), List.of()),
                            v -> !v.isEmpty() && "READY".equals(v.get(0).get("state")));
                }
            } catch (RuntimeException e) {
                throw new AssertionError("the restarted server did not bring both models back; its log:\n"
                        + Files.readString(log), e);
            }
            ChildServer second = first.restarted(data);
            assertThat(http.post(second.uri("/models/steady/predict"), "{}").text()).isEqualTo("\"steady\"");
            assertThat(http.post(second.uri("/models/hog/predict"), "{}").text()).isEqualTo("\"hungry\"");
            assertThat(Files.readString(log)).contains("OutOfMemoryError")
                    .contains("deployer: the server ran out of memory (status 3); starting it again");

            assertThat(first.terminate()).as("the launcher's status after SIGTERM").isIn(0, 143);
        }
        assertThat(Files.readString(log)).contains("deployer stopped");
    }
}
