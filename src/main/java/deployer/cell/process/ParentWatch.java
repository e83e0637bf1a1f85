package deployer.cell.process;

import java.io.IOException;
import java.io.InputStream;

/**
 * In a child cell ({@code deployer cell --supervised}): ends this JVM when its server goes, however it goes. The
 * server holds the write end of this process's standard input and never writes to it: the read returns the end of
 * the stream when the server closes it (a stop) or dies (the kernel closes the pipe, even after {@code kill -9}).
 * The parent's {@link ProcessHandle} is watched as well, for a child whose input was redirected elsewhere.
 */
public final class ParentWatch {

    /** How long the clean stop (the shutdown hook) may take before the JVM is halted. */
    static final long HALT_AFTER_MS = 20_000;

    private ParentWatch() {
    }

    /** Starts watching; returns at once. */
    public static void start(InputStream input) {
        Thread stdin = new Thread(() -> {
            try {
                while (input.read() != -1) {
                    // nothing is ever sent: only the end of the stream means anything
                }
            } catch (IOException e) {
                // a broken pipe is the parent gone too
            }
            exit("the server closed the cell's input");
        }, "cell-parent-watch");
        stdin.setDaemon(true);
        stdin.start();
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit()
                .thenRun(() -> exit("the server process " + parent.pid() + " ended")));
    }

    private static void exit(String why) {
        System.out.println("deployer cell stopping: " + why);
        // The watchdog if a clean stop hangs: the delayed executor's thread is a daemon, as this must be.
        java.util.concurrent.CompletableFuture.delayedExecutor(HALT_AFTER_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
                .execute(() -> Runtime.getRuntime().halt(1));
        System.exit(0);
    }
}
