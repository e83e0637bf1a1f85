package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Gates;
import deployer.testing.Packages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM stops a real server process cleanly: the request in flight gets its answer, the cell is closed, a thread
 * the model started and never stops (not even a daemon) does not hold the process up, and H2 is shut down so that the
 * next start opens it without recovery — which a {@code kill -9} does not (see {@link CrashAtEachStepTest}).
 */
class CleanStopTest extends ChildServerTest {

    @Test
    void sigtermDrainsClosesAndShutsTheDatabaseDownDespiteANonDaemonThread() throws Exception {
        Path gate = work.resolve("gate");
        String manifest = "{\"name\": \"stubborn\", \"properties\": {\"dir\": \"" + work + "\", \"gate\": \"" + gate
                + "\"}}";
        byte[] archive = Packages.zip(TestModels.prebuilt(work, manifest, "Stubborn", """
                Thread t = new Thread(() -> {
                    long end = System.nanoTime() + 120_000_000_000L;
                    while (System.nanoTime() < end) {
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException deaf) {
                            // keeps running: the kind of thread that would keep a JVM alive
                        }
                    }
                }, "stubborn-non-daemon");
                t.setDaemon(false);
                t.start();
                """, """
                // held at the gate until the test has seen the server begin to stop
                if ("slow".equals(input))
                """ + Gates.awaitSource("gate") + """
                return "done";
                """, """
                @Override
                public void close() throws Exception {
                    java.nio.file.Files.writeString(java.nio.file.Path.of(context.properties().get("dir"), "closed"),
                            "closed");
                }
                """));
        long stopped;
        CompletableFuture<TestServer.Response> inFlight;
        try (ChildServer server = ChildServer.start(data, logs.resolve("first.log"))) {
            Map<String, Object> d = http.upload(server, archive, "wait=60").object();
            assertThat(d).containsEntry("state", "READY");
            inFlight = CompletableFuture.supplyAsync(() -> ChildHttp.orElse(
                    () -> http.post(server.uri("/models/stubborn/predict"), "\"slow\""), null));
            Gates.awaitEntered(gate);

            long start = System.nanoTime();
            server.signalTerminate();
            // the main port stops taking connections first: from then on the request is in flight during the stop
            Eventually.get(server::refusesConnections, refused -> refused);
            assertThat(answerIfDone(inFlight)).as("the request in flight is held by its gate").isNull();
            Gates.open(gate);
            assertThat(server.awaitExit(60)).isIn(0, 143);
            stopped = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        }

        TestServer.Response answer = inFlight.get(30, TimeUnit.SECONDS);
        assertThat(answer).as("the request in flight at SIGTERM").isNotNull();
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("\"done\"");
        assertThat(stopped).as("seconds to stop, with a non-daemon thread running").isLessThan(40);
        assertThat(work.resolve("closed")).as("the model's close() ran").exists();
        assertThat(Files.readString(logs.resolve("first.log"))).contains("deployer stopped");
        assertThat(h2Header(data)).as("H2's file header after SIGTERM").contains(",clean:1,");

        try (ChildServer again = ChildServer.start(data, logs.resolve("second.log"))) {
            List<Map<String, Object>> versions = Eventually.get(() -> ChildHttp.orElse(
                    () -> http.versions(again, "stubborn"), List.of()),
                    v -> !v.isEmpty() && "READY".equals(v.get(0).get("state")));
            assertThat(versions).hasSize(1);
            assertThat(again.terminate()).isIn(0, 143);
        }
    }

    /**
     * Issue 13, finding 5: two requests of 8 s — inside their 10 s deadline, past Jetty's old 5 s stop timeout — are
     * in flight at SIGTERM, and both are answered; the health loop, pinging every 200 ms, writes no false
     * {@code ping-failed} while the ports close.
     */
    @Test
    void sigtermAnswersRequestsThatRunLongerThanFiveSecondsAndWritesNoFalsePingFailures() throws Exception {
        String manifest = "{\"name\": \"patient\", \"properties\": {\"dir\": \"" + work + "\"}}";
        byte[] archive = Packages.zip(TestModels.prebuilt(work, manifest, "Patient", "", """
                if (input instanceof String tag) {
                    java.nio.file.Files.createFile(java.nio.file.Path.of(context.properties().get("dir"), tag));
                    Thread.sleep(8_000);
                }
                return "done";
                """, ""));
        List<CompletableFuture<TestServer.Response>> inFlight = new java.util.ArrayList<>();
        try (ChildServer server = ChildServer.start(data, logs.resolve("patient.log"), "--ping-interval-ms", "200")) {
            assertThat(http.upload(server, archive, "wait=60").object()).containsEntry("state", "READY");
            for (String tag : List.of("first", "second")) {
                inFlight.add(CompletableFuture.supplyAsync(() -> ChildHttp.orElse(
                        () -> http.post(server.uri("/models/patient/predict"), "\"" + tag + "\""), null)));
            }
            Eventually.get(() -> Files.exists(work.resolve("first")) && Files.exists(work.resolve("second")),
                    entered -> entered);
            assertThat(server.terminate()).isIn(0, 143);
        }
        for (CompletableFuture<TestServer.Response> request : inFlight) {
            TestServer.Response answer = request.get(30, TimeUnit.SECONDS);
            assertThat(answer).as("a request in flight at SIGTERM").isNotNull();
            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.text()).isEqualTo("\"done\"");
        }
        try (ChildServer again = ChildServer.start(data, logs.resolve("patient-again.log"))) {
            assertThat(http.events(again, "patient")).extracting(e -> e.get("kind")).doesNotContain("ping-failed");
        }
    }

    private static TestServer.Response answerIfDone(CompletableFuture<TestServer.Response> request) {
        return request.isDone() ? request.join() : null;
    }

    /** The text header at the start of H2's file: MVStore writes {@code clean:1} only on a clean close. */
    static String h2Header(Path data) throws java.io.IOException {
        byte[] head = new byte[256];
        try (var in = Files.newInputStream(data.resolve("db/deployer.mv.db"))) {
            int n = in.readNBytes(head, 0, head.length);
            return new String(head, 0, n, StandardCharsets.ISO_8859_1);
        }
    }
}
