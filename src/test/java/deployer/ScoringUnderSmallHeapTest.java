package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Near-cap bodies in parallel against a server in a small heap (a child JVM at -Xmx256m): the scoring memory turns
 * away what would not fit, at once, and the server stays up; nothing runs out of memory.
 */
class ScoringUnderSmallHeapTest {

    static final int CLIENTS = 16;
    static final int BODY = 60 << 20;

    @TempDir
    Path data;

    @TempDir
    Path work;

    @Test
    void manyParallelNearCapBodiesAreAnswered200Or503AndTheServerStaysUp() throws Exception {
        List<String> command = new ArrayList<>(ChildServer.javaWithExitGuard());
        command.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"), "deployer.Main", "serve",
                "--port", "0", "--data", data.toString(), "--token", TestServer.TOKEN, "--cell-ports", "0"));
        Path log = work.resolve("server.log");
        ChildHttp http = new ChildHttp();
        try (ChildServer child = ChildServer.launch(command, Map.of(), data, log)) {
            // The model counts the bytes it got: what the heap holds is the server's doing, not the model's.
            Map<String, byte[]> files = TestModels.scripted("counter", "Counter", "", "return input;", """
                    @Override
                    public Object prepare(Request request) {
                        return request.body().length;
                    }
                    """);
            Map<String, Object> d = http.upload(child, Packages.zip(files), "wait=60").object();
            assertThat(d).containsEntry("state", "READY");
            int cellPort = ((Number) d.get("port")).intValue();

            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int port = i % 2 == 0 ? cellPort : child.port;
                String path = i % 2 == 0 ? "/predict" : "/models/counter/predict";
                answers.add(clients.submit(() -> send(port, path, BODY)));
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<Integer> answer : answers) {
                statuses.add(answer.get(5, TimeUnit.MINUTES));
            }
            clients.shutdown();

            assertThat(statuses).as("statuses, -1 for a connection the server closed while the client wrote")
                    .allMatch(s -> s == 200 || s == 503 || s == -1).contains(200).contains(503);
            assertThat(send(cellPort, "/predict", 70 << 20)).isIn(413, -1);
            assertThat(child.isAlive()).isTrue();
            assertThat(http.post(child.uri("/models/counter/predict"), "[1]").text()).isEqualTo("3");
            assertThat(child.terminate()).isIn(0, 143);
        }
        assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
    }

    /**
     * One body of {@code length} bytes, written a MiB at a time until the server answers; the status, or -1 when the
     * server closed the connection before its answer could be read.
     */
    static int send(int port, String path, int length) throws IOException {
        byte[] piece = new byte[1 << 20];
        java.util.Arrays.fill(piece, (byte) ' ');
        try (RawHttp client = new RawHttp(port)) {
            client.post(path, length);
            try {
                // A refusal comes as soon as the headers are in; give it a moment to arrive before writing.
                for (int i = 0; i < 20 && !client.answered(); i++) {
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
                }
                for (int sent = 0; sent < length && !client.answered(); sent += piece.length) {
                    client.write(java.util.Arrays.copyOf(piece, Math.min(piece.length, length - sent)));
                }
            } catch (IOException closed) {
                // The server answered and closed while we wrote: read what it said, if it can still be read.
            }
            try {
                return client.read(120_000).status();
            } catch (IOException gone) {
                return -1;
            }
        }
    }
}
