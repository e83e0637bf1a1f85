package deployer.guard.boot;

import java.io.File;
import java.lang.StackWalker.StackFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
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
 * <p>It also keeps, per cell, the shutdown hooks and {@code deleteOnExit} files a cell's code registers
 * ({@code Runtime.addShutdownHook}/{@code removeShutdownHook} and {@code File.deleteOnExit} call it first): the JDK
 * keeps those until the JVM exits, and a hook's thread holds its cell's class loader (ONNX Runtime's
 * {@code OrtEnvironment} registers one), so the cell could never be unloaded. The server takes them when the cell
 * closes ({@code deployer.guard.CellExits}) and runs and removes them then. No public API lists or removes another
 * party's hooks or {@code deleteOnExit} entries, so only this rewrite can know which cell registered them.
 *
 * <p>Its static fields are the JVM's: {@code armed} is written once, by the agent, after the rewrite succeeded (the
 * JVM's {@code Runtime} is one per process, and so is this gate); the two registries are keyed by cell loader,
 * weakly, and emptied as each cell closes.
 */
public final class ExitGate implements Function<Stream<StackFrame>, Class<?>> {

    static final String CELL_LOADER = "deployer.cell.CellClassLoader";

    private static volatile boolean armed;
    private static final Map<ClassLoader, List<Thread>> HOOKS = new WeakHashMap<>();
    private static final Map<ClassLoader, List<String>> FILES = new WeakHashMap<>();

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

    /** Called first in {@code Runtime.addShutdownHook}: remembers a cell's hook under the cell's loader. */
    public static void hookAdded(Thread hook) {
        ClassLoader cell = cellOfCaller();
        if (cell != null && hook != null) {
            synchronized (HOOKS) {
                HOOKS.computeIfAbsent(cell, k -> new ArrayList<>()).add(hook);
            }
        }
    }

    /** Called first in {@code Runtime.removeShutdownHook}: forgets the hook, whoever removes it. */
    public static void hookRemoved(Thread hook) {
        synchronized (HOOKS) {
            for (List<Thread> hooks : HOOKS.values()) {
                hooks.remove(hook);
            }
        }
    }

    /** Called first in {@code File.deleteOnExit}: remembers a cell's file under the cell's loader. */
    public static void deleteOnExit(File file) {
        ClassLoader cell = cellOfCaller();
        if (cell != null && file != null) {
            synchronized (FILES) {
                FILES.computeIfAbsent(cell, k -> new ArrayList<>()).add(file.getPath());
            }
        }
    }

    /** The hooks registered by a cell's code and not removed since, in order; forgotten here. */
    public static List<Thread> takeHooks(ClassLoader cell) {
        synchronized (HOOKS) {
            List<Thread> hooks = HOOKS.remove(cell);
            return hooks == null ? List.of() : List.copyOf(hooks);
        }
    }

    /** The paths a cell's code asked to delete on exit, in order; forgotten here. */
    public static List<String> takeFiles(ClassLoader cell) {
        synchronized (FILES) {
            List<String> files = FILES.remove(cell);
            return files == null ? List.of() : List.copyOf(files);
        }
    }

    /** The cell loader of the first cell class on the stack, else of the thread's context loader; or null. */
    private static ClassLoader cellOfCaller() {
        Class<?> culprit = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(new ExitGate());
        return cellLoader(culprit != null ? culprit.getClassLoader() : Thread.currentThread().getContextClassLoader());
    }

    private static ClassLoader cellLoader(ClassLoader loader) {
        for (ClassLoader l = loader; l != null; l = l.getParent()) {
            if (l.getClass().getName().equals(CELL_LOADER)) {
                return l;
            }
        }
        return null;
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
