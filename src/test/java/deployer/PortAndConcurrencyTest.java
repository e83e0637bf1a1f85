package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.Settings;

/**
 * Conflicts from outside a deploy: a cell port another program holds, and uploads of one model racing each other.
 */
class PortAndConcurrencyTest {

    @TempDir
    Path data;

    @Test
    void cellPortHeldByAnotherProgramIsSkippedForTheNextFreeOneInTheRange() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int taken = held.getLocalPort();
            Settings.PortRange range = new Settings.PortRange(taken, Math.min(65535, taken + 20));
            try (TestServer server = TestServer.start(Settings.defaults(data).withPort(0).withCellPorts(range)
                    .withToken(TestServer.TOKEN))) {
                Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("squeezed")));

                assertThat(d).containsEntry("state", "READY");
                assertThat(((Number) d.get("port")).intValue()).isNotEqualTo(taken).isBetween(taken + 1, range.last());
                assertThat(server.predict("squeezed", "1").status()).isEqualTo(200);
            }
        }
    }

    @Test
    void cellPortRangeWhollyHeldByAnotherProgramFailsTheDeployNamingThePort() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int taken = held.getLocalPort();
            try (TestServer server = TestServer.start(Settings.defaults(data).withPort(0)
                    .withCellPorts(new Settings.PortRange(taken, taken)).withToken(TestServer.TOKEN))) {
                Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("crowded")));

                assertThat(d).containsEntry("state", "FAILED");
                assertThat((String) d.get("error")).contains("no free port in --cell-ports " + taken)
                        .contains("port " + taken);
                assertThat(server.get("/api/models").status()).isEqualTo(200);
            }
        }
    }

    @Test
    void everyModelRestoredAtOnceAnswersOnItsOwnPort() throws Exception {
        List<String> names = List.of("m0", "m1", "m2", "m3", "m4", "m5");
        try (TestServer server = TestServer.start(data)) {
            for (String name : names) {
                server.deploy(Packages.zip(TestModels.echo(name)));
            }

            server.restart();

            for (String name : names) {
                Map<String, Object> d = Eventually.get(() -> TestServer.asMap(server.get("/api/models/" + name)
                        .object().get("active")), a -> !"STARTING".equals(a.get("state")));
                assertThat(d).as(name).containsEntry("state", "READY");
                TestServer.Response health = server.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(d.get("url") + "/health")).GET());
                assertThat(health.status()).as(name + ": " + health.text()).isEqualTo(200);
                assertThat(health.object()).containsEntry("model", name);
            }
        }
    }

    @Test
    void uploadsOfOneModelAtOnceGetIncreasingVersionsAndTheNewestEndsUpActive() throws Exception {
        int uploads = 4;
        try (TestServer server = TestServer.start(data)) {
            byte[] archive = Packages.zip(TestModels.echo("racy"));
            ExecutorService clients = Executors.newFixedThreadPool(uploads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<TestServer.Response>> answers = new ArrayList<>();
            for (int i = 0; i < uploads; i++) {
                answers.add(clients.submit(() -> {
                    go.await();
                    return server.upload(archive, "wait=120");
                }));
            }
            go.countDown();
            List<Long> versions = new ArrayList<>();
            for (Future<TestServer.Response> answer : answers) {
                TestServer.Response r = answer.get(180, TimeUnit.SECONDS);
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                versions.add((Long) r.object().get("version"));
            }
            clients.shutdown();

            assertThat(versions).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
            Map<String, Object> model = server.get("/api/models/racy").object();
            List<Map<String, Object>> all = ((List<?>) model.get("versions")).stream().map(TestServer::asMap).toList();
            assertThat(all).extracting(v -> v.get("version")).containsExactly(4L, 3L, 2L, 1L);
            assertThat(all).filteredOn(v -> "READY".equals(v.get("state"))).singleElement()
                    .satisfies(v -> assertThat(v).containsEntry("version", 4L));
            assertThat(TestServer.asMap(model.get("active"))).containsEntry("version", 4L);
            assertThat(server.predict("racy", "1").object()).containsEntry("version", 4L);
            List<Object> received = server.get("/api/events?model=racy&limit=500").list().stream()
                    .map(TestServer::asMap).filter(e -> "received".equals(e.get("kind"))).map(e -> e.get("version"))
                    .toList();
            assertThat(received).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
        }
    }
}
