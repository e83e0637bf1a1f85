package deployer.cell;

import java.lang.System.Logger;
import java.text.MessageFormat;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.ResourceBundle;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * The models' own log lines (what they write to {@code ModelContext.logger()}): each goes to the server's log as
 * {@code iris v2 - message} (logger {@code deployer.model}), and is kept in a bounded ring of its cell, so that
 * {@code GET /api/models/{name}/logs?since=} and {@code deployer logs NAME -f} can read one model's lines and
 * nothing else. The rings of the last {@value #CELLS_KEPT} cells of a model are kept, so a version that failed to
 * load still shows what it wrote. Every line has a sequence number, increasing across the whole server, which a
 * reader passes back as {@code since} to get only what is new.
 */
public final class ModelLogs {

    /** Lines kept per cell; the oldest go first. */
    public static final int LINES_PER_CELL = 1000;
    /** Cells of one model whose lines are kept (the newest). */
    static final int CELLS_KEPT = 4;
    /** A longer message is cut: one model must not fill the server's memory through its log. */
    static final int MAX_MESSAGE_CHARS = 8192;

    private static final org.slf4j.Logger log = LoggerFactory.getLogger("deployer.model");

    private final ConcurrentMap<String, Deque<Ring>> rings = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final boolean toServerLog;

    /** Lines go to the server's log too. */
    public ModelLogs() {
        this(true);
    }

    /** @param toServerLog whether lines also go to the server's log ({@code deployer run} prints them itself) */
    public ModelLogs(boolean toServerLog) {
        this.toServerLog = toServerLog;
    }

    /**
     * One kept line.
     *
     * @param seq its number, increasing across the server
     * @param time when it was written
     * @param level {@code INFO}, {@code WARNING} …
     * @param model the model's name
     * @param version the version whose cell wrote it
     * @param message the text, with the model's stack frames when it logged an exception
     */
    public record Line(long seq, Instant time, String level, String model, int version, String message) {
    }

    /** A new cell's logger: its lines go to the server's log and to a fresh ring of its own. */
    public Logger logger(String model, int version) {
        Ring ring = new Ring(version);
        Deque<Ring> kept = rings.computeIfAbsent(model, m -> new ArrayDeque<>());
        synchronized (kept) {
            kept.addLast(ring);
            while (kept.size() > CELLS_KEPT) {
                kept.removeFirst();
            }
        }
        return new CellLogger(model, version, ring);
    }

    /** The model's kept lines after {@code since} (0 for all), oldest first, at most {@code limit}. */
    public List<Line> since(String model, long since, int limit) {
        Deque<Ring> kept = rings.get(model);
        if (kept == null) {
            return List.of();
        }
        List<Line> lines = new ArrayList<>();
        synchronized (kept) {
            for (Ring ring : kept) {
                ring.after(since, lines);
            }
        }
        lines.sort(Comparator.comparingLong(Line::seq));
        return lines.size() > limit ? List.copyOf(lines.subList(lines.size() - limit, lines.size())) : lines;
    }

    /** Drops a removed model's lines. */
    public void forget(String model) {
        rings.remove(model);
    }

    /** One cell's lines, the newest {@value #LINES_PER_CELL}. */
    private static final class Ring {

        final int version;
        private final Deque<Line> lines = new ArrayDeque<>();

        Ring(int version) {
            this.version = version;
        }

        synchronized void add(Line line) {
            lines.addLast(line);
            if (lines.size() > LINES_PER_CELL) {
                lines.removeFirst();
            }
        }

        synchronized void after(long since, List<Line> into) {
            for (Line line : lines) {
                if (line.seq() > since) {
                    into.add(line);
                }
            }
        }
    }

    /** The {@link System.Logger} a model is given. */
    private final class CellLogger implements Logger {

        private final String model;
        private final int version;
        private final Ring ring;

        CellLogger(String model, int version, Ring ring) {
            this.model = model;
            this.version = version;
            this.ring = ring;
        }

        @Override
        public String getName() {
            return "deployer.model." + model + ".v" + version;
        }

        @Override
        public boolean isLoggable(Level level) {
            return switch (Objects.requireNonNull(level, "level")) {
                case OFF -> false;
                case ALL, TRACE -> log.isTraceEnabled();
                case DEBUG -> log.isDebugEnabled();
                default -> true;
            };
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (!isLoggable(level)) {
                return;
            }
            String text = localized(bundle, msg);
            write(level, thrown == null ? text : text + ": " + ModelTrace.describe(thrown));
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (!isLoggable(level)) {
                return;
            }
            String pattern = localized(bundle, format);
            String text;
            try {
                text = params == null || params.length == 0 ? pattern : MessageFormat.format(pattern, params);
            } catch (IllegalArgumentException e) {
                text = pattern;
            }
            write(level, text);
        }

        @Override
        public void log(Level level, Supplier<String> supplier) {
            if (isLoggable(level)) {
                write(level, String.valueOf(supplier.get()));
            }
        }

        private void write(Level level, String message) {
            String text = message == null ? "null" : message;
            if (text.length() > MAX_MESSAGE_CHARS) {
                text = text.substring(0, MAX_MESSAGE_CHARS) + " … (cut at " + MAX_MESSAGE_CHARS + " characters)";
            }
            ring.add(new Line(sequence.incrementAndGet(), Instant.now(), level.getName(), model, version, text));
            if (!toServerLog) {
                return;
            }
            switch (level) {
                case ERROR -> log.error("{} v{} - {}", model, version, text);
                case WARNING -> log.warn("{} v{} - {}", model, version, text);
                case DEBUG -> log.debug("{} v{} - {}", model, version, text);
                case TRACE, ALL -> log.trace("{} v{} - {}", model, version, text);
                default -> log.info("{} v{} - {}", model, version, text);
            }
        }

        private static String localized(ResourceBundle bundle, String key) {
            if (bundle != null && key != null && bundle.containsKey(key)) {
                return bundle.getString(key);
            }
            return key;
        }
    }
}
