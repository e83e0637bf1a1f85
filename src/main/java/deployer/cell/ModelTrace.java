package deployer.cell;

import deployer.core.DeployerException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A model's failure told with the model's own stack frames: the exception's class and message, then the frames from
 * where it was thrown down to the first frame of the server's own code (a class of {@code deployer.*} other than
 * the SPI), where the trace is cut — the frames below are the same for every model and say nothing about this one.
 * Causes follow as {@code Caused by:}, trimmed the same way. This is what the deployment's {@code error}, its
 * events and the WARN log line carry, so that a {@code NullPointerException} in {@code score()} names the line of
 * the model that threw it; a model's client gets only the first line.
 */
public final class ModelTrace {

    /** Frames kept per exception: a deep recursion must not fill the database's error column. */
    static final int MAX_FRAMES = 24;
    /** Causes followed. */
    static final int MAX_CAUSES = 4;

    private ModelTrace() {
    }

    /**
     * A failure in the model's code: the message is one line, for the model's clients; {@link #trace()} holds the
     * frames, for the people who run the model.
     */
    public static final class Failure extends DeployerException {

        private final String trace;

        Failure(Kind kind, String message, Throwable cause) {
            super(kind, message);
            this.trace = frames(cause);
        }

        /** The model's frames, {@code \tat ...} lines and {@code Caused by:} parts; empty when there are none. */
        public String trace() {
            return trace;
        }
    }

    /** A failure of the model's code, whose message is {@code message} and whose trace is {@code cause}'s. */
    static Failure failure(DeployerException.Kind kind, String message, Throwable cause) {
        return new Failure(kind, message, cause);
    }

    /** {@code java.lang.NullPointerException: ...} then the model's frames and causes, one per line. */
    public static String describe(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        String frames = frames(t);
        return frames.isEmpty() ? Cell.describe(t) : Cell.describe(t) + "\n" + frames;
    }

    /** The message of {@code e}, followed by the model's frames when it is a {@link Failure}. */
    public static String detail(Throwable e) {
        if (e instanceof Failure f && !f.trace().isEmpty()) {
            return f.getMessage() + "\n" + f.trace();
        }
        return e.getMessage();
    }

    /** The frames of {@code t} and its causes, without {@code t}'s own first line. */
    static String frames(Throwable t) {
        List<String> lines = new ArrayList<>();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        StackTraceElement[] enclosing = null;
        Throwable current = t;
        for (int depth = 0; current != null && depth <= MAX_CAUSES && seen.add(current); depth++) {
            if (depth > 0) {
                lines.add("Caused by: " + Cell.describe(current));
            }
            StackTraceElement[] stack = current.getStackTrace();
            int end = modelEnd(stack);
            int common = enclosing == null ? 0 : inCommon(stack, end, enclosing);
            int shown = Math.min(end - common, MAX_FRAMES);
            for (int i = 0; i < shown; i++) {
                lines.add("\tat " + stack[i]);
            }
            if (end - common > shown) {
                lines.add("\t... " + (end - common - shown) + " more frames of the model");
            } else if (common > 0) {
                lines.add("\t... " + common + " more");
            }
            enclosing = stack;
            current = current.getCause();
        }
        return String.join("\n", lines);
    }

    /** The index of the first frame of the server's own code: everything above it is the model's (or the JDK's). */
    private static int modelEnd(StackTraceElement[] stack) {
        int end = stack.length;
        for (int i = 0; i < stack.length; i++) {
            if (server(stack[i].getClassName())) {
                end = i;
                break;
            }
        }
        // The JDK's glue between the server and the model (reflection, a FutureTask) is not the model's either.
        while (end > 1 && end < stack.length && glue(stack[end - 1].getClassName())) {
            end--;
        }
        return end;
    }

    private static boolean glue(String className) {
        return className.startsWith("jdk.internal.reflect.") || className.startsWith("java.lang.reflect.")
                || className.startsWith("java.lang.invoke.") || className.startsWith("java.util.concurrent.");
    }

    static boolean server(String className) {
        return className.startsWith("deployer.") && !className.startsWith("deployer.spi.");
    }

    /** How many frames at the bottom of {@code stack[0, end)} the enclosing trace shares, as Java's own trace says. */
    private static int inCommon(StackTraceElement[] stack, int end, StackTraceElement[] enclosing) {
        int m = end - 1;
        int n = modelEnd(enclosing) - 1;
        int common = 0;
        while (m >= 0 && n >= 0 && stack[m].equals(enclosing[n])) {
            m--;
            n--;
            common++;
        }
        return common;
    }
}
