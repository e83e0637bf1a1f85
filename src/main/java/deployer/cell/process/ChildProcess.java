package deployer.cell.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One child JVM running {@code deployer cell --supervised}: started, its output read line by line (each handed to
 * {@code lines}, the last few kept to explain an early exit), the port it serves on learnt from the line the cell
 * prints once READY, and stopped by closing its standard input — the child's {@link ParentWatch} exits on that, as
 * it does when this JVM dies in any way, so a child never outlives its server.
 */
final class ChildProcess {

    /** What {@code deployer cell} prints once its model is READY (Main.CellAlone), port included. */
    static final Pattern SERVING = Pattern.compile("deployer cell serving on .*:(\\d+) \\(");
    /** What the child prints before that when its frames go to a loopback port ({@link FrameServer#ANNOUNCE}). */
    static final Pattern FRAMES_TCP = Pattern.compile(Pattern.quote(FrameServer.ANNOUNCE) + "tcp:.*:(\\d+)$");
    private static final int LINES_KEPT = 20;

    private final Process process;
    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    /** The frames' loopback port, when the child announced one (no Unix socket); 0 when it did not. */
    private volatile int framesPort;
    private final Deque<String> lastLines = new ArrayDeque<>();
    private volatile boolean stopping;

    private ChildProcess(Process process) {
        this.process = process;
    }

    /**
     * Starts the child; {@code lines} gets each line it writes (on a thread of the child's own, so it must not
     * block for long), {@code died} the description of an exit that {@link #stop} did not ask for.
     */
    static ChildProcess start(List<String> command, Map<String, String> environment, String name,
                              Consumer<String> lines, Consumer<String> died) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().keySet().removeIf(key -> key.startsWith("DEPLOYER_"));
        builder.environment().putAll(environment);
        // The JDK's reaper thread for the child is made now and takes this thread's context loader: the server's,
        // not the cell's, or unloading the cell would take it for a thread the model left running.
        Thread self = Thread.currentThread();
        ClassLoader own = self.getContextClassLoader();
        self.setContextClassLoader(ChildProcess.class.getClassLoader());
        ChildProcess child;
        try {
            child = new ChildProcess(builder.start());
        } finally {
            self.setContextClassLoader(own);
        }
        Thread reader = new Thread(() -> child.read(lines), "cell-" + name + "-pid-" + child.pid() + "-out");
        reader.setDaemon(true);
        reader.setContextClassLoader(ChildProcess.class.getClassLoader());
        reader.start();
        child.process.onExit().thenRun(() -> {
            child.port.completeExceptionally(new IllegalStateException(child.exitText()));
            if (!child.stopping) {
                died.accept(child.exitText());
            }
        });
        return child;
    }

    private void read(Consumer<String> lines) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                synchronized (lastLines) {
                    lastLines.addLast(line);
                    if (lastLines.size() > LINES_KEPT) {
                        lastLines.removeFirst();
                    }
                }
                if (!port.isDone()) {
                    Matcher frames = FRAMES_TCP.matcher(line);
                    if (frames.find()) {
                        framesPort = Integer.parseInt(frames.group(1));
                    }
                    Matcher m = SERVING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
                try {
                    lines.accept(line);
                } catch (RuntimeException e) {
                    // a line that cannot be logged is dropped, the next one still read: the child must not block
                }
            }
        } catch (IOException e) {
            // the pipe closed: the child has gone, which onExit reports
        }
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The loopback port of the child's frames, learnt before {@link #port} completes; 0 when none was told. */
    int framesPort() {
        return framesPort;
    }

    /** The port the child serves on once READY; fails when it exits first. */
    CompletableFuture<Integer> port() {
        return port;
    }

    /** How the child ended, with the last lines it wrote (its own error message among them). */
    String exitText() {
        String status = process.isAlive() ? "is still running" : "exited with status " + process.exitValue()
                + describe(process.exitValue());
        String last;
        synchronized (lastLines) {
            last = lastLines.stream().filter(l -> l.startsWith("deployer:") || l.contains("Error")
                    || l.contains("Exception") || l.contains("FAILED")).reduce((a, b) -> b).orElse("");
        }
        return "the model's process (pid " + pid() + ") " + status + (last.isEmpty() ? "" : ": " + last.strip());
    }

    private static String describe(int status) {
        if (status == 3) {
            return " (out of memory: -XX:+ExitOnOutOfMemoryError; raise jvm.heap_mb)";
        }
        return status > 128 ? " (killed by signal " + (status - 128) + ")" : "";
    }

    /**
     * Asks the child to stop (its standard input closes; it closes its cell and exits), waits up to
     * {@code graceMs}, then kills it. Idempotent.
     */
    void stop(long graceMs) {
        stopping = true;
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // already closed: the child sees the end of its input all the same
        }
        try {
            if (!process.waitFor(graceMs, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(graceMs, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The child's resident memory in KiB ({@code VmRSS} in {@code /proc}); -1 where that cannot be read. */
    long rssKb() {
        return Rss.ofPid(pid());
    }
}
