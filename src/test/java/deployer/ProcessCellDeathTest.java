package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * However a process cell's child dies — {@code System.exit}, {@code Runtime.halt}, an {@code OutOfMemoryError},
 * {@code kill -9} — the other models keep serving and the model comes back READY in a new child.
 */
class ProcessCellDeathTest extends ServerTest {

    @Test
    void systemExitInTheChildEndsOnlyThatChildWhichIsRestarted() {
        diesAndComesBack(pid -> server.predict("mortal", "{\"do\": \"exit\"}"));
    }

    @Test
    void runtimeHaltInTheChildEndsOnlyThatChildWhichIsRestarted() {
        diesAndComesBack(pid -> server.predict("mortal", "{\"do\": \"halt\"}"));
    }

    @Test
    void outOfMemoryInTheChildEndsOnlyThatChildWhichIsRestarted() {
        diesAndComesBack(pid -> server.predict("mortal", "{\"do\": \"oom\"}"));
    }

    @Test
    void killMinusNineOfTheChildIsRestarted() {
        diesAndComesBack(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    private void diesAndComesBack(java.util.function.LongConsumer kill) {
        server.deploy(Packages.zip(TestModels.echo("bystander")));
        Map<String, Object> d = server.deploy(Packages.zip(ProcessCellTest.mortal("mortal", 64)));
        long pid = (Long) d.get("pid");

        kill.accept(pid);

        Eventually.get(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
        assertThat(server.predict("bystander", "{\"x\": 1}").status()).isEqualTo(200);
        Map<String, Object> back = Eventually.get(() -> server.get("/api/deployments/" + d.get("deploy_id"))
                .object(), x -> x.get("pid") != null && !x.get("pid").equals(pid)
                        && (Long) x.get("restarts") >= 1);
        assertThat(back).containsEntry("state", "READY");
        assertThat(back.get("port")).isEqualTo(d.get("port"));
        TestServer.Response again = server.predict("mortal", "{\"x\": 1}");
        assertThat(again.status()).as(again.text()).isEqualTo(200);
        assertThat(again.object()).containsEntry("pid", back.get("pid"));
        assertThat(server.predict("bystander", "{\"x\": 2}").status()).isEqualTo(200);
        assertThat(server.get("/api/events?model=mortal").text()).contains("process-exited");
    }
}
