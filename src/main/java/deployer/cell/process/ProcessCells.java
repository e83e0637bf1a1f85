package deployer.cell.process;

import deployer.core.Settings;
import deployer.pack.Manifest;
import java.io.File;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Makes the models of {@code "isolation": "process"} cells (DESIGN 1.12): each a {@link ProcessModel} that runs the
 * package in a child JVM of the same jar ({@code deployer cell --supervised}, the very code a container runs) and
 * that the server's cell scores through: requests as {@link Frames} on kept connections to the child's
 * {@link FrameServer} (a Unix domain socket, else a loopback port), pings and metadata over the child's HTTP port with
 * one HTTP client shared by every child. One watch thread closes the connections of exchanges past their deadline.
 */
public final class ProcessCells implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProcessCells.class);

    /** How long a socket folder may stay empty before a starting server takes it for a dead child's. */
    static final Duration STALE_EMPTY = Duration.ofMinutes(10);

    /** The loopback address children bind; nothing else reaches them. */
    static final String CHILD_HOST = "127.0.0.1";

    private final Settings.CellProcess jvm;
    private final Path runtimes;
    private final ExecutorService clientThreads;
    private final HttpClient http;
    /** The frame pools of the children now serving, watched for exchanges past their deadline. */
    private final java.util.Set<FramePool> pools = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.ScheduledExecutorService watch;

    /**
     * @param jvm {@code --cell-java} and {@code --cell-jvm-args}
     * @param runtimes the server's {@code <data>/runtimes}, whose ONNX Runtime a child gets as the server's cells do
     */
    public ProcessCells(Settings.CellProcess jvm, Path runtimes) {
        this.jvm = jvm;
        this.runtimes = runtimes;
        int stale = FrameAddress.sweepStale(STALE_EMPTY);
        if (stale > 0) {
            log.info("removed {} socket folder(s) of process cells that ended with their server", stale);
        }
        AtomicInteger count = new AtomicInteger();
        this.clientThreads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "cell-process-client-" + count.incrementAndGet());
            t.setDaemon(true);
            // Made while a cell's code runs (the client starts threads on demand): not that cell's threads, so
            // not its loader, or unloading the cell would take them for threads the model left running.
            t.setContextClassLoader(ProcessCells.class.getClassLoader());
            return t;
        });
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(clientThreads)
                .connectTimeout(Duration.ofSeconds(5)).build();
        this.watch = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cell-process-deadlines");
            t.setDaemon(true);
            t.setContextClassLoader(ProcessCells.class.getClassLoader());
            return t;
        });
        watch.scheduleWithFixedDelay(this::closeOverdue, WATCH_MS, WATCH_MS,
                java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** How often the exchanges' deadlines are looked at: a late reply is cut off within this of its deadline. */
    static final long WATCH_MS = 100;

    private void closeOverdue() {
        long now = System.nanoTime();
        for (FramePool pool : pools) {
            try {
                pool.closeOverdue(now);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(ProcessCells.class).warn("closing overdue connections failed", e);
            }
        }
    }

    /** A child's pool, watched until {@link #unwatch}. */
    void watch(FramePool pool) {
        pools.add(pool);
    }

    void unwatch(FramePool pool) {
        pools.remove(pool);
    }

    /**
     * A model that, once loaded, is a child JVM serving {@code folder}.
     *
     * @param cellName names the child's threads and log lines ({@code iris-v2})
     * @param died told once when the child exits without being asked to (a crash, an OOM, System.exit, a kill)
     */
    public ProcessModel model(String cellName, int version, Manifest manifest, Path folder, Consumer<String> died) {
        return new ProcessModel(cellName, manifest, command(manifest, folder, version), environment(), http, this,
                died);
    }

    /** {@code java [--cell-jvm-args] [-Xmx] -XX:+ExitOnOutOfMemoryError -cp <ours> deployer.Main cell DIR …}. */
    List<String> command(Manifest manifest, Path folder, int version) {
        List<String> command = new ArrayList<>();
        command.add(jvm.launcher().toString());
        command.addAll(jvm.jvmArgs());
        if (manifest.isolation().heapMb() > 0) {
            command.add("-Xmx" + manifest.isolation().heapMb() + "m");
        }
        // An OutOfMemoryError ends the child at once rather than leaving a JVM half alive: the server restarts it.
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.add("-cp");
        command.add(classPath());
        command.add("deployer.Main");
        command.addAll(List.of("cell", folder.toAbsolutePath().toString(), "--port", "0", "--host", CHILD_HOST,
                "--supervised", "--model-version", Integer.toString(version), "--runtimes",
                runtimes.toAbsolutePath().toString()));
        return command;
    }

    /** The server's own class path, absolute, so the child runs the same jar (or classes) from any folder. */
    static String classPath() {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                entries.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /** The server logs each request once: the child's own access log would say it again. */
    private static Map<String, String> environment() {
        return Map.of("DEPLOYER_ACCESS_LOG", "OFF");
    }

    @Override
    public void close() {
        watch.shutdownNow();
        clientThreads.shutdownNow();
    }
}
