package deployer.bench;

import deployer.Deployer;
import deployer.OnnxGraphs;
import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Row 14 (issue 16): dynamic batching on a per-call-heavy ONNX graph made here (an MLP 256→1024→1024→10 on FP32,
 * dynamic batch axis), the same graph deployed twice — batching on ({@code max_batch_size} 32, {@code max_delay_ms}
 * 2) and off — measured side by side, rounds alternating: at {@link Options#connections()} connections (throughput
 * and p99) and at one (p50, where batching must not add a wait). The batch sizes the model saw come from
 * {@code /metrics}.
 */
final class BatchingRow {

    static final int ROW = 14;
    private static final int FEATURES = 256;
    // Wide enough that the weights (5 MiB) outgrow the caches: a call costs what reading them costs, as in a real
    // network, and that is what a batch shares.
    private static final int HIDDEN = 1024;

    private final Options options;

    BatchingRow(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path data = Files.createDirectories(options.work().resolve("batching")).resolve("data");
        OnnxGraphs.provideRuntime(data);
        byte[] graph = OnnxGraphs.mlp(16, FEATURES, 10, HIDDEN, HIDDEN);
        try (Deployer deployer = Deployer.start(Bench.settings(data))) {
            URI base = deployer.uri();
            deploy(base, "mlp-off", graph, "");
            deploy(base, "mlp-on", graph, ", \"batching\": {\"max_batch_size\": 32, \"max_delay_ms\": 2}");
            byte[] body = row();
            int n = options.connections();
            Load off = new Load(deployer.port(), "/models/mlp-off/predict", body, n);
            Load on = new Load(deployer.port(), "/models/mlp-on/predict", body, n);
            Load offAlone = new Load(deployer.port(), "/models/mlp-off/predict", body, 1);
            Load onAlone = new Load(deployer.port(), "/models/mlp-on/predict", body, 1);
            off.run(options.warmupMs(), 0);
            on.run(options.warmupMs(), 0);
            List<Load.Result> offRuns = new ArrayList<>();
            List<Load.Result> onRuns = new ArrayList<>();
            List<Load.Result> offAloneRuns = new ArrayList<>();
            List<Load.Result> onAloneRuns = new ArrayList<>();
            for (int round = 0; round < options.rounds(); round++) {
                boolean onFirst = round % 2 == 1;
                if (onFirst) {
                    onRuns.add(on.run(300, options.measureMs()));
                }
                offRuns.add(off.run(300, options.measureMs()));
                if (!onFirst) {
                    onRuns.add(on.run(300, options.measureMs()));
                }
                if (onFirst) {
                    onAloneRuns.add(onAlone.run(200, options.measureMs() / 2));
                }
                offAloneRuns.add(offAlone.run(200, options.measureMs() / 2));
                if (!onFirst) {
                    onAloneRuns.add(onAlone.run(200, options.measureMs() / 2));
                }
            }
            Load.Result batched = Load.merge(onRuns);
            Load.Result single = Load.merge(offRuns);
            Load.Result batchedAlone = Load.merge(onAloneRuns);
            Load.Result singleAlone = Load.merge(offAloneRuns);
            double ratio = batched.throughput() / single.throughput();
            double p99 = (double) batched.p99() / single.p99();
            double p50Alone = (double) batchedAlone.p50() / Math.max(1, singleAlone.p50());
            String sizes = batchSizes(base);
            table.add(new Table.Row(ROW, "dynamic batching on an MLP 256→1024→1024→10 (FP32, runtime onnx), " + n
                    + " connections, batching on (32, 2 ms) vs off; batch sizes " + sizes,
                    "on: " + batched + "; 1 connection: p50 " + Table.micros(batchedAlone.p50()),
                    "off: " + single + "; 1 connection: p50 " + Table.micros(singleAlone.p50()),
                    "throughput " + Table.ratio(ratio) + ", p99 " + Table.ratio(p99) + ", 1-conn p50 "
                            + Table.ratio(p50Alone),
                    "throughput ≥ 2×, p99 ≤ 1×, 1-conn p50 ≤ 1.1×",
                    Table.met(ratio >= 2 && p99 <= 1.0 && p50Alone <= 1.1 && batched.failed() == 0)));
        }
    }

    /** One row of 256 features, the same for every request. */
    private static byte[] row() {
        Random random = new Random(7);
        StringBuilder json = new StringBuilder("{\"instances\": [[");
        for (int i = 0; i < FEATURES; i++) {
            json.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", random.nextGaussian()));
        }
        return json.append("]]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void deploy(URI base, String name, byte[] graph, String extra) throws IOException {
        byte[] body = new Multipart().file("package", "package.zip", Packages.zip(OnnxGraphs.nocode(name, graph,
                extra))).build();
        String answer = OnnxRows.send(HttpRequest.newBuilder(base.resolve("/api/deployments?wait=300"))
                .header("Authorization", "Bearer " + Api.TOKEN).header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        if (!answer.contains("\"READY\"")) {
            throw new IllegalStateException("not READY: " + answer);
        }
    }

    /** "mean 11.2 (≤1 3%, ≤8 20%, ≤16 40%, ≤32 37%)": what the model saw, from the histogram in /metrics. */
    private static String batchSizes(URI base) throws IOException {
        String metrics = OnnxRows.send(HttpRequest.newBuilder(base.resolve("/metrics")));
        double count = 0;
        double sum = 0;
        List<double[]> buckets = new ArrayList<>();
        for (String line : metrics.lines().toList()) {
            if (!line.contains("model=\"mlp-on\"")) {
                continue;
            }
            double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            if (line.startsWith("deployer_batch_size_count")) {
                count = value;
            } else if (line.startsWith("deployer_batch_size_sum")) {
                sum = value;
            } else if (line.startsWith("deployer_batch_size_bucket") && !line.contains("le=\"+Inf\"")) {
                String le = line.replaceAll(".*le=\"([^\"]+)\".*", "$1");
                buckets.add(new double[] {Double.parseDouble(le), value});
            }
        }
        if (count == 0) {
            return "(none recorded)";
        }
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "mean %.1f over %.0f calls (", sum / count,
                count));
        double below = 0;
        boolean first = true;
        for (double[] bucket : buckets) {
            double share = (bucket[1] - below) / count;
            below = bucket[1];
            if (share > 0.005 && bucket[0] <= 32) {
                out.append(first ? "" : ", ").append(String.format(Locale.ROOT, "≤%.0f %.0f%%", bucket[0],
                        share * 100));
                first = false;
            }
        }
        return out.append(')').toString();
    }
}
