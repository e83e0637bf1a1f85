package deployer.bench;

import deployer.BenchFixtures;
import deployer.Deployer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Rows 1 to 3 and 8: scoring throughput and latency on a cell's port against a bare Jetty servlet calling the same
 * model class, through the main port against the cell's port, under hot swaps against the same load without, and
 * the Open Inference Protocol against the plain route.
 */
final class ServingRows {

    private static final String MODEL = "trivial";
    private static final byte[] BODY = BenchFixtures.TRIVIAL_REQUEST.getBytes(StandardCharsets.UTF_8);
    private static final String TENSOR = "tensor";
    private static final byte[] TENSOR_BODY = BenchFixtures.TENSOR_REQUEST.getBytes(StandardCharsets.UTF_8);

    private final Options options;

    ServingRows(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("serving"));
        byte[] archive = BenchFixtures.trivialPackage(work, MODEL);
        Path jar = BareJetty.writeJar(work, entry(archive, "model.jar"));
        try (Deployer deployer = Deployer.start(Bench.settings(work.resolve("data")));
             BareJetty bare = new BareJetty(jar, work)) {
            Api api = new Api(deployer.uri());
            api.deploy(archive);
            Map<String, Object> v2 = api.deploy(archive);
            int cellPort = ((Number) v2.get("port")).intValue();
            int n = options.connections();
            Load onBare = new Load(bare.port(), "/predict", BODY, n);
            Load onCell = new Load(cellPort, "/predict", BODY, n);
            Load onGateway = new Load(deployer.port(), "/models/" + MODEL + "/predict", BODY, n);
            sideBySide(table, onBare, onCell, onGateway);
            if (options.runs(8)) {
                api.deploy(BenchFixtures.tensorPackage(work, TENSOR));
                oip(table, new Load(deployer.port(), "/v2/models/" + TENSOR + "/infer", TENSOR_BODY, n),
                        new Load(deployer.port(), "/models/" + TENSOR + "/predict", BODY, n));
            }
            swaps(table, api, onCell);
        }
    }

    /** Rows 1 and 2: the three targets in turn, round after round, each warmed up first. */
    private void sideBySide(Table table, Load onBare, Load onCell, Load onGateway) throws Exception {
        List<Load> targets = List.of(onBare, onCell, onGateway);
        for (Load target : targets) {
            target.run(options.warmupMs(), 0);
        }
        List<List<Load.Result>> results = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int round = 0; round < options.rounds(); round++) {
            for (int i = 0; i < targets.size(); i++) {
                results.get(i).add(targets.get(i).run(500, options.measureMs()));
            }
        }
        Load.Result bare = Load.merge(results.get(0));
        Load.Result cell = Load.merge(results.get(1));
        Load.Result gateway = Load.merge(results.get(2));
        double throughput = cell.throughput() / bare.throughput();
        double p99 = (double) cell.p99() / bare.p99();
        table.add(new Table.Row(1, "`/predict` on the cell's port, trivial model, " + options.connections()
                + " connections", cell.toString(), "bare Jetty servlet, same JVM, same model class: " + bare,
                "throughput " + Table.ratio(throughput) + ", p99 " + Table.ratio(p99),
                "throughput ≥ 0.95×, p99 ≤ 1.2×", Table.met(throughput >= 0.95 && p99 <= 1.2
                        && cell.failed() == 0)));
        double via = gateway.throughput() / cell.throughput();
        table.add(new Table.Row(2, "`/models/{name}/predict` on the main port", gateway.toString(),
                "row 1's cell port: " + cell, "throughput " + Table.ratio(via), "throughput ≥ 0.95×",
                Table.met(via >= 0.95 && gateway.failed() == 0)));
    }

    /** Row 8: the Open Inference Protocol against the plain route, same port, same model, round after round. */
    private void oip(Table table, Load infer, Load predict) throws Exception {
        infer.run(options.warmupMs(), 0);
        predict.run(options.warmupMs(), 0);
        List<Load.Result> inferred = new ArrayList<>();
        List<Load.Result> predicted = new ArrayList<>();
        // the order turned each round, as rows 11-12 do: whichever went first in a noisy moment does not decide it
        for (int round = 0; round < options.rounds(); round++) {
            if (round % 2 == 0) {
                inferred.add(infer.run(500, options.measureMs()));
                predicted.add(predict.run(500, options.measureMs()));
            } else {
                predicted.add(predict.run(500, options.measureMs()));
                inferred.add(infer.run(500, options.measureMs()));
            }
        }
        Load.Result v2 = Load.merge(inferred);
        Load.Result plain = Load.merge(predicted);
        double ratio = v2.throughput() / plain.throughput();
        table.add(new Table.Row(8, "`/v2/models/{name}/infer` on the main port, one FP64 tensor of 4, "
                + options.connections() + " connections", v2.toString(),
                "`/models/{name}/predict`, same port and model: " + plain, "throughput " + Table.ratio(ratio),
                "throughput ≥ 0.90×", Table.met(ratio >= 0.90 && v2.failed() == 0)));
    }

    /**
     * Row 3: the swaps under load, then the same load for as long without; round after round, as rows 1 and 2, so
     * one burst of noise from the rest of the machine does not decide the row.
     */
    private void swaps(Table table, Api api, Load onCell) throws Exception {
        List<Load.Result> during = new ArrayList<>();
        List<Load.Result> without = new ArrayList<>();
        long swapNanos = 0;
        int version = 2;
        for (int round = 0; round < options.rounds(); round++) {
            Load.Running running = onCell.start(1_000);
            Load.sleep(1_000);
            long start = System.nanoTime();
            for (int i = 0; i < options.loadSwaps(); i++) {
                version = 3 - version;
                api.activate(MODEL, version);
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            swapNanos += System.nanoTime() - start;
            // At least as long a window as rows 1 and 2 measure, so a fast run of swaps is not judged on a few
            // requests.
            long windowMs = Math.max(options.measureMs(), tookMs);
            Load.sleep(windowMs - tookMs);
            during.add(running.stop());
            without.add(onCell.run(1_000, windowMs));
        }
        Load.Result swapping = Load.merge(during);
        Load.Result steady = Load.merge(without);
        double p99 = (double) swapping.p99() / steady.p99();
        int swaps = options.loadSwaps() * options.rounds();
        table.add(new Table.Row(3, options.loadSwaps() + " hot swaps under row 1's load, " + options.rounds()
                + (options.rounds() == 1 ? " round" : " rounds") + " (one swap every "
                + Table.millis(swapNanos / 1e6 / swaps) + ")", swapping.toString(),
                "the same load without swaps: " + steady, "p99 " + Table.ratio(p99),
                "0 failed; p99 ≤ 2×", Table.met(swapping.failed() == 0 && p99 <= 2.0)));
    }

    static byte[] entry(byte[] zip, String name) throws java.io.IOException {
        try (ZipInputStream in = new ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().equals(name)) {
                    return in.readAllBytes();
                }
            }
        }
        throw new java.io.IOException("no " + name + " in the package");
    }
}
