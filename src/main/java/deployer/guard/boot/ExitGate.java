package deployer.guard.boot;

import java.lang.StackWalker.StackFrame;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Called first thing in {@code Runtime.exit} and {@code Runtime.halt} once the exit guard has rewritten them: throws
 * {@link SecurityException} when a model's code asked, so a model cannot stop the server it runs in.
 *
 * <p>The exit guard defines this class, renamed {@code java.lang.DeployerExitGate}, in the bootstrap loader beside
 * {@code java.lang.Runtime}, which can then call it; so it may use the JDK only. It knows cell code by its class loader's class name rather than by type, because the type
 * ({@code deployer.cell.CellClassLoader}) lives in the application loader, which the bootstrap loader cannot see.
 * A call counts as a model's when any frame on the stack was defined by a cell's loader (or a loader the model made
 * under it), or the calling thread's context loader is a cell's (a thread the model started inherits it).
 *
 * <p>Its one static field is written once, by the agent, after the rewrite succeeded: the JVM's {@code Runtime} is
 * one per process, and so is this gate.
 */
public final class ExitGate implements Function<Stream<StackFrame>, Class<?>> {

    static final String CELL_LOADER = "deployer.cell.CellClassLoader";

    private static volatile boolean armed;

    private ExitGate() {
    }

    /** Called by the agent once {@code Runtime.exit} and {@code halt} call {@link #check}. */
    public static void arm() {
        armed = true;
    }

    /** Whether {@code Runtime.exit} and {@code halt} are guarded in this JVM. */
    public static boolean armed() {
        return armed;
    }

    /**
     * Vetoes the exit when a model asked for it.
     *
     * @param status the status the caller passed to {@code exit} or {@code halt}
     * @throws SecurityException naming the model's class, when a model's code is on the stack
     */
    public static void check(int status) {
        Class<?> culprit = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(new ExitGate());
        if (culprit == null && isCellLoader(Thread.currentThread().getContextClassLoader())) {
            culprit = Thread.class;
        }
        if (culprit != null) {
            throw new SecurityException("a model may not stop the server: System.exit/Runtime.halt(" + status
                    + ") called from " + (culprit == Thread.class ? "a thread the model started" : culprit.getName())
                    + " was refused; throw an exception to fail a request, or return false from healthy()");
        }
    }

    /** The first class on the stack that belongs to a cell, or null. */
    @Override
    public Class<?> apply(Stream<StackFrame> frames) {
        return frames.map(StackFrame::getDeclaringClass).filter(c -> isCellLoader(c.getClassLoader())).findFirst()
                .orElse(null);
    }

    private static boolean isCellLoader(ClassLoader loader) {
        for (ClassLoader l = loader; l != null; l = l.getParent()) {
            if (l.getClass().getName().equals(CELL_LOADER)) {
                return true;
            }
        }
        return false;
    }
}
