package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import deployer.core.CrashPoints;

/**
 * {@code kill -9} at each step of a deploy, in a real server process: {@code DEPLOYER_HALT_AT} halts it there, and
 * the next server on the same data folder must show either the old version active or the new one READY, no row
 * without its folder or folder without its row, nothing in staging, and events that say what happened. One data
 * folder goes through every step in turn; the server that checks one step is the one that crashes at the next.
 */
class CrashAtEachStepTest extends ChildServerTest {

    /** The steps in the order a deploy reaches them; before the commit, the upload must vanish without a trace. */
    static final List<String> STEPS = List.of(CrashPoints.AFTER_INSERT, CrashPoints.AFTER_MOVE,
            CrashPoints.AFTER_COMMIT, CrashPoints.AFTER_LOAD, CrashPoints.BEFORE_SWAP, CrashPoints.AFTER_SWAP,
            CrashPoints.AFTER_ACTIVATE);
    static final Set<String> BEFORE_COMMIT = Set.of(CrashPoints.AFTER_INSERT, CrashPoints.AFTER_MOVE);

    @Test
    void killedAtEveryStepOfADeployTheServerComesBackWithNothingLost() throws Exception {
        assertThat(STEPS).containsExactlyInAnyOrderElementsOf(CrashPoints.STEPS);
        byte[] archive = Packages.zip(TestModels.prebuilt(work, "{\"name\": \"m\"}", "Versioned", "",
                "return Map.of(\"version\", context.version());", ""));
        int active = 1;
        int next = 2;
        ChildServer server = ChildServer.start(data, logs.resolve("setup.log"),
                Map.of("DEPLOYER_HALT_AT", STEPS.get(0) + "@" + next));
        try {
            assertThat(http.upload(server, archive, "wait=60").object()).containsEntry("state", "READY");
            String previous = null;
            for (int i = 0; i < STEPS.size(); i++) {
                String step = STEPS.get(i);
                if (previous != null) {
                    assertRecovered(server, previous, active, next - (BEFORE_COMMIT.contains(previous) ? 0 : 1));
                }
                try {
                    http.upload(server, archive, null);
                } catch (IOException expected) {
                    // the server halted before it answered
                }
                assertThat(server.awaitExit(60)).as("status after halting at %s", step)
                        .isEqualTo(CrashPoints.HALT_STATUS);
                if (i == 0) {
                    // What CleanStopTest's clean stop must and this crash must not leave: H2's clean mark.
                    assertThat(CleanStopTest.h2Header(data)).doesNotContain(",clean:1,");
                }
                if (!BEFORE_COMMIT.contains(step)) {
                    active = next;
                    next++;
                }
                Map<String, String> env = i + 1 < STEPS.size()
                        ? Map.of("DEPLOYER_HALT_AT", STEPS.get(i + 1) + "@" + next) : Map.of();
                server = ChildServer.start(data, logs.resolve("after-" + step + ".log"), env);
                previous = step;
            }
            assertRecovered(server, previous, active, next - 1);
            assertThat(Files.readString(logs.resolve("after-" + STEPS.get(0) + ".log")))
                    .as("the crashed server's log").doesNotContain("Exception in thread");
        } finally {
            server.close();
        }
    }

    /**
     * The state after a crash at {@code step} while uploading {@code uploaded}: settled, exactly one READY version,
     * the expected one active and answering, rows and folders in one-to-one, staging empty, and the events.
     */
    private void assertRecovered(ChildServer server, String step, int active, int uploaded) throws Exception {
        List<Map<String, Object>> versions = Eventually.get(() -> ChildHttp.orElse(() -> http.versions(server, "m"),
                List.of()), v -> !v.isEmpty() && v.stream().noneMatch(d -> "STARTING".equals(d.get("state")))
                && v.stream().anyMatch(d -> "READY".equals(d.get("state"))));
        String what = "after a crash at " + step + ": " + versions;

        assertThat(versions.stream().filter(d -> "READY".equals(d.get("state"))).toList()).as(what).singleElement()
                .satisfies(d -> assertThat(d).containsEntry("version", (long) active));
        assertThat(http.call(server, "GET", "/api/models/m").object().get("active")).as(what)
                .satisfies(a -> assertThat(TestServer.asMap(a)).containsEntry("version", (long) active));
        assertThat(http.post(server.uri("/models/m/predict"), "{}").text()).isEqualTo("{\"version\":" + active + "}");
        if (BEFORE_COMMIT.contains(step)) {
            assertThat(versions).as(what).noneMatch(d -> d.get("version").equals((long) uploaded));
        }
        Set<String> rows = versions.stream().map(d -> String.valueOf(d.get("deploy_id"))).collect(Collectors.toSet());
        try (Stream<Path> folders = Files.list(data.resolve("models/m"))) {
            assertThat(folders.map(f -> f.getFileName().toString())).as(what).containsExactlyInAnyOrderElementsOf(rows);
        }
        try (Stream<Path> staging = Files.list(data.resolve("staging"))) {
            assertThat(staging).as(what).isEmpty();
        }
        List<Map<String, Object>> events = http.events(server, "m");
        List<Object> kinds = events.stream().filter(e -> Long.valueOf(uploaded).equals(e.get("version")))
                .map(e -> e.get("kind")).toList();
        if (step.equals(CrashPoints.AFTER_MOVE)) {
            assertThat(events).as("events after a crash at %s", step)
                    .anyMatch(e -> "discarded".equals(e.get("kind")));
        } else if (!BEFORE_COMMIT.contains(step)) {
            assertThat(kinds).as("events of version %d after a crash at %s", uploaded, step)
                    .contains("restoring", "ready");
        }
    }
}
