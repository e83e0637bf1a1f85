package deployer.guard;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a cell left for the JVM's exit, done when the cell closes instead: the shutdown hooks its code registered are
 * taken off the JVM's list ({@code Runtime.removeShutdownHook}) and run, and its {@code deleteOnExit} files are
 * deleted. Until then a hook's thread holds the cell's class loader for the life of the JVM (ONNX Runtime's
 * {@code OrtEnvironment} registers one), and every version of a model would stay in memory.
 *
 * <p>Knowing which hooks and files are a cell's takes the exit guard's rewrite of {@code Runtime} and {@code File}
 * (the JDK has no public API that lists them): without the guard this does nothing.
 */
public final class CellExits {

    /**
     * @param hooksRun hooks taken off the JVM's list and run
     * @param hooksStillRunning names of hooks that did not finish within the deadline
     * @param filesDeleted files deleted
     */
    public record Released(int hooksRun, List<String> hooksStillRunning, int filesDeleted) {
    }

    private CellExits() {
    }

    /**
     * Runs and removes the hooks a cell registered (all at once, each on its own thread as the JVM would, waiting
     * up to {@code timeoutMs} for them in all), then deletes its {@code deleteOnExit} files, last registered first.
     */
    @SuppressWarnings("unchecked")
    public static Released release(ClassLoader cell, long timeoutMs) {
        Class<?> gate;
        try {
            gate = Class.forName(ExitGuardAgent.GATE, false, null);
        } catch (ClassNotFoundException e) {
            return new Released(0, List.of(), 0);
        }
        List<Thread> hooks;
        List<String> files;
        try {
            Method takeHooks = gate.getMethod("takeHooks", ClassLoader.class);
            Method takeFiles = gate.getMethod("takeFiles", ClassLoader.class);
            hooks = (List<Thread>) takeHooks.invoke(null, cell);
            files = (List<String>) takeFiles.invoke(null, cell);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the exit gate is defined but cannot be asked", e);
        }
        List<Thread> started = new ArrayList<>();
        for (Thread hook : hooks) {
            boolean removed;
            try {
                removed = Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting and runs the hooks itself
                return new Released(0, List.of(), 0);
            }
            if (removed) {
                hook.start();
                started.add(hook);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        List<String> stillRunning = new ArrayList<>();
        for (Thread hook : started) {
            try {
                hook.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (hook.isAlive()) {
                stillRunning.add(hook.getName());
            }
        }
        int deleted = 0;
        for (int i = files.size() - 1; i >= 0; i--) {
            try {
                deleted += Files.deleteIfExists(Path.of(files.get(i))) ? 1 : 0;
            } catch (IOException | RuntimeException e) {
                // a folder still holding files the cell did not ask to delete, or no longer ours to delete: the
                // JVM's own deleteOnExit list still has it and tries again at exit
            }
        }
        return new Released(started.size(), stillRunning, deleted);
    }
}
