package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ONNX runtime's {@code scoreBatch}: requests stacked along the graph's dynamic batch axis into one run answer
 * exactly what each answers alone, row for row, by JSON and by the Open Inference Protocol.
 */
class BatchedOnnxTest extends ServerTest {

    private static final String BATCHING = ", \"batching\": {\"max_batch_size\": 16, \"max_delay_ms\": 5},"
            + " \"limits\": {\"max_concurrent\": 256}";

    @BeforeEach
    void runtime() {
        OnnxGraphs.provideRuntime(data);
    }

    private static String rows(int i) {
        // one or two rows per request, so the stacked runs mix request sizes
        return i % 3 == 0 ? "[[" + i + ", " + (i * 0.5) + "], [" + (-i) + ", 2]]" : "[[" + i + ", " + (i * 0.25) + "]]";
    }

    @Test
    void stackedRunsAnswerWhatEachRequestAnswersAlone() throws Exception {
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("alone", OnnxGraphs.regression(), ""))))
                .containsEntry("state", "READY");
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("stacked", OnnxGraphs.regression(), BATCHING))))
                .containsEntry("state", "READY");
        ExecutorService clients = Executors.newFixedThreadPool(24);
        List<CompletableFuture<String[]>> pairs = new ArrayList<>();
        for (int i = 0; i < 240; i++) {
            String body = "{\"instances\": " + rows(i) + "}";
            pairs.add(CompletableFuture.supplyAsync(() -> {
                TestServer.Response stacked = server.predict("stacked", body);
                TestServer.Response alone = server.predict("alone", body);
                return new String[] {body, stacked.status() + " " + stacked.text(), alone.status() + " " + alone.text()};
            }, clients));
        }
        for (CompletableFuture<String[]> pair : pairs) {
            String[] p = pair.get();
            assertThat(p[1]).as(p[0]).startsWith("200 ").isEqualTo(p[2]);
        }
        clients.shutdown();
        String metrics = server.get("/metrics").text();
        assertThat(metrics).containsPattern("deployer_batch_size_sum\\{model=\"stacked\",version=\"1\"\\} \\d");
        double batches = metric(metrics, "deployer_batch_size_count{model=\"stacked\",version=\"1\"}");
        assertThat(batches).as("requests shared runs: fewer batches than requests").isLessThan(240);
    }

    @Test
    void oipTensorsStackedAnswerTheSameTypedTensors() throws Exception {
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("alone", OnnxGraphs.regression(), ""))))
                .containsEntry("state", "READY");
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("stacked", OnnxGraphs.regression(), BATCHING))))
                .containsEntry("state", "READY");
        ExecutorService clients = Executors.newFixedThreadPool(16);
        List<CompletableFuture<String[]>> pairs = new ArrayList<>();
        for (int i = 0; i < 96; i++) {
            String body = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP64\", \"data\": [" + i
                    + ", " + (i * 3) + "]}]}";
            pairs.add(CompletableFuture.supplyAsync(() -> {
                String stacked = server.post(server.uri("/v2/models/stacked/infer"), body).text();
                String alone = server.post(server.uri("/v2/models/alone/infer"), body).text();
                return new String[] {body, stacked.replace("\"stacked\"", "\"m\""), alone.replace("\"alone\"", "\"m\"")};
            }, clients));
        }
        for (CompletableFuture<String[]> pair : pairs) {
            String[] p = pair.get();
            assertThat(p[1]).as(p[0]).contains("\"outputs\"").isEqualTo(p[2]);
        }
        clients.shutdown();
    }

    private static double metric(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " ")).map(l -> l.substring(series.length() + 1))
                .mapToDouble(Double::parseDouble).findFirst().orElseThrow(() -> new AssertionError(series));
    }
}
