package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Gates;
import deployer.testing.Packages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** limits.max_concurrent answers 503 at once beyond it; limits.timeout_ms answers 504 and frees the client. */
class LimitsTest extends ServerTest {

    @Test
    void requestsBeyondMaxConcurrentGet503AtOnce() throws Exception {
        Path gate = work.resolve("gate");
        String manifest = "{\"name\": \"narrow\", \"limits\": {\"max_concurrent\": 1},"
                + " \"properties\": {\"gate\": \"" + gate + "\"}}";
        server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Narrow", "", """
                if ("hold".equals(input))
                """ + Gates.awaitSource("gate") + """
                return "done";
                """, "")));
        ExecutorService client = Executors.newSingleThreadExecutor();
        Future<TestServer.Response> holding = client.submit(() -> server.predict("narrow", "\"hold\""));
        Gates.awaitEntered(gate);

        TestServer.Response refused = server.predict("narrow", "\"quick\"");

        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.error()).contains("busy").contains("max_concurrent");
        Gates.open(gate);
        assertThat(holding.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
        client.shutdown();
        assertThat(server.predict("narrow", "\"quick\"").text()).isEqualTo("\"done\"");
    }

    @Test
    void requestPastTimeoutGets504AndOthersStillAnswer() throws Exception {
        String manifest = "{\"name\": \"spinner\", \"limits\": {\"timeout_ms\": 300, \"max_concurrent\": 4}}";
        server.deploy(Packages.zip(TestModels.prebuilt(work, manifest, "Spinner", "", """
                if (String.valueOf(input).contains("spin")) {
                    // Deaf to interrupts, like a runaway loop; bounded so it does not eat a core for the rest
                    // of the test run.
                    long end = System.nanoTime() + 3_000_000_000L;
                    while (System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                }
                return "quick";
                """, "")));

        TestServer.Response timedOut = server.predict("spinner", "\"spin\"");

        assertThat(timedOut.status()).isEqualTo(504);
        assertThat(timedOut.error()).contains("spinner v1").contains("300 ms");
        assertThat(server.predict("spinner", "\"fast\"").text()).isEqualTo("\"quick\"");

        // The Open Inference Protocol waits for its answer on the receiving thread: it too gets its 504 at the
        // deadline, not when the spin ends 3 s later.
        long started = System.nanoTime();
        TestServer.Response inference = server.post(server.uri("/v2/models/spinner/infer"),
                "{\"inputs\": [{\"name\": \"input\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"spin\"]}]}");
        assertThat(inference.status()).as(inference.text()).isEqualTo(504);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(2_500);
    }
}
