package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server killed with SIGKILL leaves no process cell behind, and brings it back in a new child on restart. */
class ProcessCellOrphanTest {

    @TempDir
    Path data;

    @TempDir
    Path logs;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void childrenOfAServerKilledWithSigkillExitByThemselvesAndComeBackAfterARestart() throws Exception {
        long pid;
        Object deployId;
        Path frames;
        try (ChildServer server = ChildServer.start(data, logs.resolve("first.log"))) {
            Map<String, Object> d = deploy(server);
            assertThat(d).as(d.toString()).containsEntry("state", "READY");
            pid = (Long) d.get("pid");
            deployId = d.get("deploy_id");
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).hasValue(true);
            frames = framesFolder(pid);
            assertThat(frames).isDirectory();
            // The server alone: kill() would take its descendants, the children this test is about, with it.
            server.killServerOnly();
        }
        Eventually.get(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
        assertThat(frames).as("the child's socket folder, removed by the child on its way out").doesNotExist();

        try (ChildServer again = ChildServer.start(data, logs.resolve("second.log"))) {
            Map<String, Object> back = Eventually.get(() -> get(again, "/api/deployments/" + deployId),
                    x -> "READY".equals(x.get("state")) && x.get("pid") != null);
            long second = (Long) back.get("pid");
            assertThat(second).isNotEqualTo(pid);
            assertThat(again.terminate()).isIn(0, 143);
            Eventually.get(() -> ProcessHandle.of(second).map(ProcessHandle::isAlive).orElse(false),
                    alive -> !alive);
        }
    }

    /** The folder of the Unix socket a child takes frames on, from its command line ({@code --frames DIR}). */
    private static Path framesFolder(long pid) throws java.io.IOException {
        // ProcessHandle.Info leaves out the arguments of a command line this long (the class path): Linux's own copy.
        List<String> args = List.of(java.nio.file.Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        int at = args.indexOf("--frames");
        assertThat(at).as(args.toString()).isNotNegative();
        return Path.of(args.get(at + 1));
    }

    private Map<String, Object> deploy(ChildServer server) throws Exception {
        byte[] body = new Multipart().file("package", "p.zip", Packages.zip(ProcessCellTest.mortal("orphan", 64)))
                .build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri("/api/deployments?wait=90"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        return new TestServer.Response(r.statusCode(), r.body()).object();
    }

    private Map<String, Object> get(ChildServer server, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri(path))
                    .header("Authorization", "Bearer " + TestServer.TOKEN).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return new TestServer.Response(r.statusCode(), r.body()).object();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
