package deployer.bench;

import deployer.BenchFixtures;
import deployer.Deployer;
import deployer.testing.Packages;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/** Rows 5 and 6: what a cell costs, and whether swapped-out cells really go away. */
final class CellCostRows {

    private static final Pattern REACHABLE = Pattern.compile("(?m)^deployer_cells_unloaded_reachable\\S* (\\S+)$");

    private final Options options;

    CellCostRows(Options options) {
        this.options = options;
    }

    /** Row 6: many swaps of one model; then only the active cell's loader is alive and metaspace is back. */
    void churn(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("churn"));
        Map<String, byte[]> files = BenchFixtures.trivialFiles(work, "churn");
        try (Deployer deployer = Deployer.start(Bench.settings(work.resolve("data")))) {
            Api api = new Api(deployer.uri());
            api.deploy(Packages.zip(files));
            api.deploy(Packages.zip(files));
            // Warm: the server's own classes for a swap are loaded and the first unloads done before "before".
            for (int i = 0; i < 4; i++) {
                api.activate("churn", i % 2 == 0 ? 1 : 2);
            }
            awaitCollected(api);
            long metaBefore = metaspace();
            long start = System.nanoTime();
            for (int i = 0; i < options.churnSwaps(); i++) {
                api.activate("churn", i % 2 == 0 ? 1 : 2);
            }
            double perSwap = (System.nanoTime() - start) / 1e6 / options.churnSwaps();
            awaitCollected(api);
            long metaAfter = metaspace();
            long loaders = liveInstances("deployer.cell.CellClassLoader");
            List<Object> events = api.list("/api/events?model=churn&limit=10000");
            long unloaded = events.stream().filter(e -> "unloaded".equals(((Map<?, ?>) e).get("kind"))).count();
            long leaked = events.stream().filter(e -> "leaked".equals(((Map<?, ?>) e).get("kind"))).count();
            double growth = (double) metaAfter / metaBefore;
            table.add(new Table.Row(6, options.churnSwaps() + " swaps of one model (" + Table.millis(perSwap)
                    + " each)", "live cell class loaders " + loaders + " (active cells 1); " + unloaded
                    + " unloaded, " + leaked + " leaked events; metaspace " + Table.mib(metaAfter),
                    "before the swaps: metaspace " + Table.mib(metaBefore), "metaspace " + Table.ratio(growth),
                    "loaders = active; metaspace within 10%", Table.met(loaders == 1 && leaked == 0
                            && Math.abs(growth - 1) <= 0.10)));
        }
    }

    /** Row 5: one model, then many more; time and memory per cell. */
    void many(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("many"));
        Map<String, byte[]> files = BenchFixtures.trivialFiles(work, "x");
        try (Deployer deployer = Deployer.start(Bench.settings(work.resolve("data")))) {
            Api api = new Api(deployer.uri());
            // Warm the deploy path on a model that is not counted, so "one" is not the JVM's first deploy.
            api.deploy(packageNamed(files, "warm"));
            Footprint base = Footprint.now();
            long start = System.nanoTime();
            api.deploy(packageNamed(files, "one"));
            double oneMs = (System.nanoTime() - start) / 1e6;
            Footprint afterOne = Footprint.now();
            int n = options.models();
            start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                api.deploy(packageNamed(files, "m" + i));
            }
            double manyMs = (System.nanoTime() - start) / 1e6;
            Footprint afterMany = Footprint.now();
            long ready = api.list("/api/models").stream()
                    .filter(m -> "READY".equals(((Map<?, ?>) m).get("state"))).count();
            Footprint one = afterOne.minus(base);
            Footprint each = afterMany.minus(afterOne).per(n);
            table.add(new Table.Row(5, n + " models deployed, " + (ready - 2) + " of " + n + " READY",
                    Table.millis(manyMs / n) + " per model (" + Table.millis(manyMs) + " in all); per cell " + each,
                    // One cell's heap is below what a heap reading after a collection can tell apart (it moved by
                    // several MiB either way between runs); a hundred of them are not, so memory is per cell of those.
                    "one model: " + Table.millis(oneMs) + ", " + one.threads() + " threads",
                    "time per model " + Table.ratio(manyMs / n / oneMs), "reported", ready - 2 == n ? "-" : "no"));
        }
    }

    private static byte[] packageNamed(Map<String, byte[]> files, String name) {
        Map<String, byte[]> renamed = new LinkedHashMap<>(files);
        renamed.put("deploy.json", ("{\"name\": \"" + name + "\"}").getBytes(StandardCharsets.UTF_8));
        return Packages.zip(renamed);
    }

    /** Waits until no unloaded cell's class loader is reachable, as /metrics tells. */
    private static void awaitCollected(Api api) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            Matcher m = REACHABLE.matcher(api.get("/metrics"));
            if (m.find() && Double.parseDouble(m.group(1)) == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("unloaded cells still reachable after 60 s: " + (m.find(0) ? m.group() : "no gauge"));
            }
            Load.sleep(200);
        }
    }

    static long metaspace() {
        collect();
        return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getName().equals("Metaspace"))
                .mapToLong(p -> p.getUsage().getUsed()).sum();
    }

    static void collect() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
    }

    /** Live instances of a class, from the JVM's class histogram (which collects first). */
    static long liveInstances(String className) throws Exception {
        String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        for (String line : histogram.split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length >= 4 && cols[3].equals(className)) {
                return Long.parseLong(cols[1]);
            }
        }
        return 0;
    }

    /** Heap and metaspace in use after a collection, and live threads. */
    record Footprint(long heap, long metaspace, long threads) {
        static Footprint now() {
            long meta = CellCostRows.metaspace();
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            return new Footprint(heap, meta, ManagementFactory.getThreadMXBean().getThreadCount());
        }

        Footprint minus(Footprint other) {
            return new Footprint(heap - other.heap, metaspace - other.metaspace, threads - other.threads);
        }

        Footprint per(int n) {
            return new Footprint(heap / n, metaspace / n, Math.round((double) threads / n));
        }

        @Override
        public String toString() {
            return "heap " + Table.size(heap) + " + metaspace " + Table.size(metaspace) + ", " + threads + " threads";
        }
    }
}
