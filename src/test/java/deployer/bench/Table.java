package deployer.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The one table the benchmark prints: a Markdown table, so BENCHMARKS.md can hold it as printed. */
final class Table {

    static final String[] HEADER = {"#", "what", "measured", "compared with", "ratio", "target", "met"};

    /** One row; {@code met} is "yes", "no", or "-" when the row only reports. */
    record Row(int number, String what, String measured, String baseline, String ratio, String target, String met) {

        static Row failed(int number, String what, String target, Throwable error) {
            String reason = error.getMessage() == null ? error.toString() : error.getMessage();
            return new Row(number, what, "error: " + reason.replace('|', '/').replace('\n', ' '), "-", "-", target,
                    "no");
        }
    }

    private final List<Row> rows = new ArrayList<>();

    void add(Row row) {
        rows.add(row);
    }

    List<Row> rows() {
        return List.copyOf(rows);
    }

    void print(PrintStream out) {
        out.println("| " + String.join(" | ", HEADER) + " |");
        out.println("|" + "---|".repeat(HEADER.length));
        for (Row r : rows) {
            out.println("| " + String.join(" | ", String.valueOf(r.number()), r.what(), r.measured(), r.baseline(),
                    r.ratio(), r.target(), r.met()) + " |");
        }
        out.flush();
    }

    static String micros(long us) {
        return us >= 10_000 ? String.format(Locale.ROOT, "%.1f ms", us / 1000.0)
                : String.format(Locale.ROOT, "%.2f ms", us / 1000.0);
    }

    static String millis(double ms) {
        return ms >= 10_000 ? String.format(Locale.ROOT, "%.1f s", ms / 1000) : String.format(Locale.ROOT, "%.0f ms", ms);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** MiB, or KiB below one MiB. */
    static String size(long bytes) {
        return Math.abs(bytes) >= 1048576 ? mib(bytes) : String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2f×", r);
    }

    static String met(boolean ok) {
        return ok ? "yes" : "no";
    }
}
