package deployer.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How answers read in a terminal: plain tables, a deployment's outcome in one line or all its fields, short lists
 * of file names, sizes in KiB and MiB.
 */
final class Output {

    private Output() {
    }

    /** The fields of {@link #details}, in the order they are shown. */
    static final List<String> FIELDS = List.of("deploy_id", "model", "version", "state", "port", "url", "created",
            "ready_at", "attempts", "restarts", "healthy", "last_ping", "sha256", "size", "error");

    /** {@code iris v2 READY on port 9101: http://127.0.0.1:9101}, or the state and error. */
    static String outcome(Map<String, Object> d) {
        String who = d.get("model") + " v" + d.get("version");
        String state = String.valueOf(d.get("state"));
        if ("READY".equals(state)) {
            return who + " READY on port " + d.get("port") + ": " + d.get("url");
        }
        if (d.get("error") != null) {
            return who + " " + state + ": " + d.get("error");
        }
        return who + " " + state;
    }

    /** Every field, one per line, the names aligned; a multi-line error keeps its lines, indented. */
    static void details(PrintWriter out, Map<String, Object> d) {
        int width = FIELDS.stream().mapToInt(String::length).max().orElse(0) + 2;
        for (String field : FIELDS) {
            if (!d.containsKey(field)) {
                continue;
            }
            Object value = d.get(field);
            String text = value == null ? "-" : value.toString();
            if (field.equals("size") && value instanceof Number n) {
                text = size(n.longValue());
            }
            String label = field + ":";
            out.println(label + " ".repeat(width - label.length())
                    + text.replace("\n", "\n" + " ".repeat(width)));
        }
    }

    /** The first names, then how many more: a folder may hold thousands of files. */
    static String names(List<String> names) {
        int shown = Math.min(names.size(), 12);
        String list = String.join(", ", names.subList(0, shown));
        return names.size() > shown ? list + " … and " + (names.size() - shown) + " more" : list;
    }

    /** {@code 1 file}, {@code 2 files}. */
    static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    /**
     * A plain text table: a header in capitals, columns padded to their widest cell, two spaces apart, no borders;
     * an absent value shows as {@code -}, and only a cell's first line is shown.
     */
    static final class Table {

        private final List<String> header;
        private final List<List<String>> rows = new ArrayList<>();

        Table(String... header) {
            this.header = List.of(header);
        }

        Table row(Object... cells) {
            if (cells.length != header.size()) {
                throw new IllegalArgumentException(cells.length + " cells for " + header.size() + " columns");
            }
            List<String> row = new ArrayList<>();
            for (Object cell : cells) {
                row.add(text(cell));
            }
            rows.add(row);
            return this;
        }

        boolean isEmpty() {
            return rows.isEmpty();
        }

        void print(PrintWriter out) {
            int[] widths = new int[header.size()];
            for (int c = 0; c < widths.length; c++) {
                widths[c] = header.get(c).length();
                for (List<String> row : rows) {
                    widths[c] = Math.max(widths[c], row.get(c).length());
                }
            }
            line(out, header, widths);
            for (List<String> row : rows) {
                line(out, row, widths);
            }
        }

        private static void line(PrintWriter out, List<String> cells, int[] widths) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < cells.size(); c++) {
                line.append(cells.get(c));
                if (c < cells.size() - 1) {
                    line.append(" ".repeat(widths[c] - cells.get(c).length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }

        static String text(Object value) {
            if (value == null) {
                return "-";
            }
            String text = value.toString();
            int newline = text.indexOf('\n');
            return newline < 0 ? text : text.substring(0, newline) + " …";
        }
    }
}
