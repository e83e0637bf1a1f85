package deployer.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The upload's progress bar, drawn on stderr in place ({@code \r}), only on a terminal and only once the upload
 * has taken more than {@link #QUIET_MS}: a quick upload, or one whose output goes to a file, shows nothing.
 */
final class Progress {

    /** Uploads quicker than this draw no bar at all. */
    static final long QUIET_MS = 1000;
    /** Redraw no more often than this. */
    static final long REDRAW_MS = 100;
    static final int WIDTH = 30;

    private final PrintWriter err;
    private final boolean terminal;
    private final String label;
    private final long total;
    private final LongSupplier clockMs;
    private final long start;
    private final AtomicLong sent = new AtomicLong();
    private long lastDrawn = -1;
    private boolean drawn;

    /**
     * @param terminal whether stderr is a terminal ({@code System.console() != null})
     * @param total the bytes to send; unknown when not positive
     * @param clockMs the clock, milliseconds
     */
    Progress(PrintWriter err, boolean terminal, String label, long total, LongSupplier clockMs) {
        this.err = err;
        this.terminal = terminal;
        this.label = label;
        this.total = total;
        this.clockMs = clockMs;
        this.start = clockMs.getAsLong();
    }

    /** Counts {@code bytes} more sent; called from the HTTP client's thread. */
    void add(long bytes) {
        long now = sent.addAndGet(bytes);
        if (terminal) {
            draw(now, false);
        }
    }

    /** Ends the bar's line, if one was drawn. */
    synchronized void finish() {
        if (drawn) {
            draw(sent.get(), true);
            err.println();
            err.flush();
        }
    }

    private synchronized void draw(long bytes, boolean last) {
        long elapsed = clockMs.getAsLong() - start;
        if (elapsed < QUIET_MS || (!last && lastDrawn >= 0 && elapsed - lastDrawn < REDRAW_MS)) {
            return;
        }
        lastDrawn = elapsed;
        drawn = true;
        err.print('\r');
        err.print(line(bytes, elapsed));
        err.flush();
    }

    String line(long bytes, long elapsedMs) {
        double seconds = Math.max(elapsedMs, 1) / 1000.0;
        String rate = Output.size((long) (bytes / seconds)) + "/s";
        if (total <= 0) {
            return String.format(Locale.ROOT, "uploading %s  %s  %s", label, Output.size(bytes), rate);
        }
        double fraction = Math.min(1.0, (double) bytes / total);
        int filled = (int) Math.round(fraction * WIDTH);
        return String.format(Locale.ROOT, "uploading %s [%s%s] %3d%%  %s of %s  %s", label, "#".repeat(filled),
                "-".repeat(WIDTH - filled), Math.round(fraction * 100), Output.size(bytes), Output.size(total), rate);
    }
}
