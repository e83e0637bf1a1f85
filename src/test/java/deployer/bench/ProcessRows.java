package deployer.bench;

import deployer.BenchFixtures;
import deployer.Deployer;
import deployer.cell.process.Rss;
import deployer.testing.Packages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Rows 16 to 20 (issue 19): {@code "isolation": "process"} against the in-process cell on the same trivial model,
 * side by side, rounds alternating — throughput on the model's own port and through the gateway, start-to-READY —
 * then what a child costs (its RSS, for the trivial model and for {@code cells/iris-onnx}) and whether swaps of an
 * ONNX model in process mode leave memory behind (RSS of the whole process tree before and after).
 */
final class ProcessRows {

    static final List<Integer> ROWS = List.of(16, 17, 18, 19, 20);
    private static final byte[] BODY = BenchFixtures.TRIVIAL_REQUEST.getBytes(StandardCharsets.UTF_8);
    private static final String PROCESS = ", \"isolation\": \"process\", \"jvm\": {\"heap_mb\": 128}";

    private final Options options;

    ProcessRows(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("process"));
        try (Deployer deployer = Deployer.start(Bench.settings(work.resolve("data")))) {
            Api api = new Api(deployer.uri());
            long start = System.nanoTime();
            Map<String, Object> inside = api.deploy(trivial(work, "inside", ""));
            long insideMs = (System.nanoTime() - start) / 1_000_000;
            start = System.nanoTime();
            Map<String, Object> apart = api.deploy(trivial(work, "apart", PROCESS));
            long apartMs = (System.nanoTime() - start) / 1_000_000;
            int n = options.connections();
            Load insideOwn = new Load(port(inside), "/predict", BODY, n);
            Load apartOwn = new Load(port(apart), "/predict", BODY, n);
            Load insideGateway = new Load(deployer.port(), "/models/inside/predict", BODY, n);
            Load apartGateway = new Load(deployer.port(), "/models/apart/predict", BODY, n);
            sideBySide(table, 16, "`/predict` on the model's port, trivial model, process cell, " + n
                    + " connections", apartOwn, insideOwn, ((Number) apart.get("pid")).longValue());
            sideBySide(table, 17, "`/models/{name}/predict` on the main port, process cell", apartGateway,
                    insideGateway, 0);
            table.add(new Table.Row(18, "start-to-READY of the trivial model (upload to READY), process cell",
                    Table.millis(apartMs), "in-process cell: " + Table.millis(insideMs),
                    Table.ratio((double) apartMs / Math.max(1, insideMs)), "report", "-"));
            long trivialRss = rssOf(apart);
            if (!options.runs(19) && !options.runs(20)) {
                // --only 16,17: the ONNX model's rows take minutes of their own
                return;
            }
            Path iris = Path.of("cells/iris-onnx");
            if (!Files.isDirectory(iris.resolve("lib"))) {
                table.add(new Table.Row(19, "RSS of one process cell", Table.size(trivialRss * 1024)
                        + " (trivial model)", "-", "-", "report", "-"));
                table.add(new Table.Row(20, "swaps of an ONNX model in process mode", "skipped: cells/iris-onnx/lib"
                        + " is built by mvn package", "-", "-", "report", "-"));
                return;
            }
            Map<String, Object> onnx = api.deploy(example(iris, "iris-onnx-apart"));
            long onnxRss = rssOf(onnx);
            table.add(new Table.Row(19, "RSS of one process cell (jvm.heap_mb 128)", Table.size(trivialRss * 1024)
                    + " trivial model; " + Table.size(onnxRss * 1024) + " cells/iris-onnx", "-", "-", "report", "-"));
            swaps(table, api, iris);
        }
    }

    /** Row 20: RSS of this JVM and its children, before and after swaps of an ONNX process model. */
    private void swaps(Table table, Api api, Path iris) throws IOException {
        api.deploy(example(iris, "iris-onnx-apart"));
        long children = liveChildren();
        long before = treeRssKb();
        int swaps = options.loadSwaps();
        int version = 2;
        for (int i = 0; i < swaps; i++) {
            version = 3 - version;
            api.activate("iris-onnx-apart", version);
        }
        // The replaced children exit once drained: measured when the tree is back to as many as before.
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (liveChildren() > children && System.nanoTime() < deadline) {
            Load.sleep(200);
        }
        long after = treeRssKb();
        table.add(new Table.Row(20, swaps + " swaps of cells/iris-onnx in process mode: RSS of the whole tree"
                + " (server + load + " + children + " children)", Table.size(after * 1024) + " after",
                Table.size(before * 1024) + " before", Table.ratio((double) after / before), "report (≤ 1.10×)",
                Table.met(after <= before * 1.10)));
    }

    /** With {@code childPid} (not 0), the CPU per request of each side is measured after the rounds. */
    private void sideBySide(Table table, int row, String what, Load process, Load inProcess, long childPid)
            throws Exception {
        process.run(options.warmupMs(), 0);
        inProcess.run(options.warmupMs(), 0);
        List<Load.Result> apart = new ArrayList<>();
        List<Load.Result> inside = new ArrayList<>();
        for (int round = 0; round < options.rounds(); round++) {
            boolean processFirst = round % 2 == 0;
            if (processFirst) {
                apart.add(process.run(500, options.measureMs()));
            }
            inside.add(inProcess.run(500, options.measureMs()));
            if (!processFirst) {
                apart.add(process.run(500, options.measureMs()));
            }
        }
        Load.Result p = Load.merge(apart);
        Load.Result i = Load.merge(inside);
        double ratio = p.throughput() / i.throughput();
        // Not in --quick (a test under a deadline): two more rounds there buy nothing.
        String[] cpu = childPid == 0 || options.quick() ? new String[] {"", "", ""}
                : cpuPerRequest(process, inProcess, childPid);
        table.add(new Table.Row(row, what, p + cpu[0], "in-process cell, same model: " + i + cpu[1],
                "throughput " + Table.ratio(ratio) + cpu[2], "throughput ≥ 0.90×",
                Table.met(ratio >= 0.90 && p.failed() == 0)));
    }

    /**
     * Row 16's price in CPU: microseconds of CPU per request in this JVM (the server and the load generator) and in
     * the child, one side at a time, as texts for the row's measured, compared-with and ratio columns. On a box whose cores are all busy, throughput goes as the inverse of that sum,
     * so the in-process figure over the process cell's sum is the ratio's ceiling here, whatever the scheduling.
     */
    private String[] cpuPerRequest(Load process, Load inProcess, long childPid) throws Exception {
        ProcessHandle self = ProcessHandle.current();
        ProcessHandle child = ProcessHandle.of(childPid).orElseThrow();
        long selfBefore = cpuNanos(self);
        Load.Result inside = inProcess.run(500, options.measureMs());
        double insideUs = (cpuNanos(self) - selfBefore) / 1e3 / sent(inside);
        selfBefore = cpuNanos(self);
        long childBefore = cpuNanos(child);
        Load.Result apart = process.run(500, options.measureMs());
        double apartSelfUs = (cpuNanos(self) - selfBefore) / 1e3 / sent(apart);
        double apartChildUs = (cpuNanos(child) - childBefore) / 1e3 / sent(apart);
        return new String[] {
            String.format("; CPU per request %.0f µs here (server and load generator) + %.0f µs in the child",
                    apartSelfUs, apartChildUs),
            String.format("; CPU per request %.0f µs", insideUs),
            " (CPU ceiling " + Table.ratio(insideUs / (apartSelfUs + apartChildUs)) + ")"};
    }

    /** Requests sent over a run with its 500 ms warm-up, estimated from the measured part's rate. */
    private double sent(Load.Result result) {
        return Math.max(1, result.throughput() * (500 + options.measureMs()) / 1000.0);
    }

    private static long cpuNanos(ProcessHandle process) {
        return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    private static byte[] trivial(Path work, String name, String extra) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>(BenchFixtures.trivialFiles(work, name));
        files.put("deploy.json", ("{\"name\": \"" + name + "\"" + extra + "}").getBytes(StandardCharsets.UTF_8));
        return Packages.zip(files);
    }

    /** An example folder as a package, renamed and made a process cell. */
    private static byte[] example(Path folder, String name) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                String path = folder.relativize(file).toString().replace('\\', '/');
                if (path.startsWith("serving/") || path.startsWith("model/") || path.startsWith("lib/")) {
                    files.put(path, Files.readAllBytes(file));
                }
            }
        }
        String manifest = Files.readString(folder.resolve("deploy.json"));
        manifest = manifest.replaceFirst("\"name\"\\s*:\\s*\"[^\"]*\"", "\"name\": \"" + name + "\"");
        manifest = manifest.substring(0, manifest.lastIndexOf('}')) + PROCESS + "}";
        files.put("deploy.json", manifest.getBytes(StandardCharsets.UTF_8));
        return Packages.zip(files);
    }

    private static int port(Map<String, Object> d) {
        return ((Number) d.get("port")).intValue();
    }

    private static long rssOf(Map<String, Object> d) {
        return Rss.ofPid(((Number) d.get("pid")).longValue());
    }

    private static long liveChildren() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count();
    }

    private static long treeRssKb() {
        long total = Math.max(0, Rss.ofPid(ProcessHandle.current().pid()));
        for (ProcessHandle child : ProcessHandle.current().descendants().toList()) {
            total += Math.max(0, Rss.ofPid(child.pid()));
        }
        return total;
    }
}
