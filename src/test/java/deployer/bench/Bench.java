package deployer.bench;

import deployer.core.FileTrees;
import deployer.core.Settings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * The benchmark: every row of issue 7, each measured side by side with what it is compared to, in one run, on
 * loopback. {@code bin/bench} runs it; {@code --quick} is the same rows small and short (a test runs it, so it
 * cannot rot). Prints one Markdown table on standard output; progress goes to standard error.
 */
public final class Bench {

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        // Stops by itself: whatever hangs, the process ends within the deadline.
        Thread watchdog = new Thread(() -> {
            Load.sleep(options.deadlineMs());
            System.err.println("bench: over the deadline of " + options.deadlineMs() / 1000 + " s; stopping");
            Runtime.getRuntime().halt(2);
        }, "bench-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        Table table = run(options, System.err);
        table.print(System.out);
        System.exit(table.rows().stream().anyMatch(r -> r.measured().startsWith("error")) ? 1 : 0);
    }

    /** Runs every row; a row that fails is printed with its error, and the others still run. */
    public static Table run(Options options, PrintStream progress) {
        Table table = new Table();
        try {
            step(options, progress, "rows 1-3, 8: serving, side by side", () -> new ServingRows(options).run(table),
                    table, List.of(1, 2, 3, 8));
            step(options, progress, "row 9: large bodies against a small heap",
                    () -> new MemoryRow(options).run(table), table, List.of(9));
            step(options, progress, "row 6: swaps of one model", () -> new CellCostRows(options).churn(table),
                    table, List.of(6));
            step(options, progress, "row 5: many models", () -> new CellCostRows(options).many(table), table,
                    List.of(5));
            step(options, progress, "row 4: a big upload", () -> new UploadRow(options).run(table), table,
                    List.of(4));
            step(options, progress, "row 7: start-up", () -> new StartupRow(options).run(table), table, List.of(7));
            step(options, progress, "row 10: TLS on the cell port", () -> new TlsRow(options).run(table), table,
                    List.of(10));
            step(options, progress, "row 14: dynamic batching", () -> new BatchingRow(options).run(table), table,
                    List.of(BatchingRow.ROW));
            step(options, progress, "row 15: traffic between versions", () -> new TrafficRow(options).run(table),
                    table, List.of(TrafficRow.ROW));
            step(options, progress, "rows 16-20: process cells", () -> new ProcessRows(options).run(table), table,
                    ProcessRows.ROWS);
            step(options, progress, "rows 11-13: no-code ONNX, OIP, kept jars", () -> new OnnxRows(options).run(table),
                    table, OnnxRows.ROWS);
            step(options, progress, "rows 21-22: replicas on PostgreSQL, nginx in front",
                    () -> new ReplicaRows(options).run(table), table, ReplicaRows.ROWS);
        } finally {
            FileTrees.delete(options.work());
        }
        Table sorted = new Table();
        table.rows().stream().sorted(Comparator.comparingInt(Table.Row::number)).forEach(sorted::add);
        return sorted;
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void step(Options options, PrintStream progress, String what, Step step, Table table,
                             List<Integer> rows) {
        if (rows.stream().noneMatch(options::runs)) {
            return;
        }
        progress.println("bench: " + what + " ...");
        long start = System.nanoTime();
        int before = table.rows().size();
        try {
            step.run();
        } catch (Throwable t) {
            progress.println("bench: " + what + " failed: " + t);
            t.printStackTrace(progress);
            List<Integer> done = table.rows().subList(before, table.rows().size()).stream()
                    .map(Table.Row::number).toList();
            for (int row : rows) {
                if (!done.contains(row)) {
                    table.add(Table.Row.failed(row, what, "-", t));
                }
            }
        }
        progress.printf("bench: %s done in %.1f s%n", what, (System.nanoTime() - start) / 1e9);
    }

    /** An in-process deployer on free ports, data in {@code data}, with the benchmark's token. */
    static Settings settings(Path data) {
        return Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any()).withToken(Api.TOKEN);
    }
}
