package deployer.cell.process;

import deployer.pack.Manifest;
import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Reply;
import deployer.spi.Request;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The server's side of a process cell: a {@link Model} whose {@code load} starts the child JVM and waits until it
 * serves, whose stages hand each request to the child as a {@link Frames} request on a kept connection
 * ({@link FramePool}: a Unix domain socket in a folder made for it, else a loopback port) and its answer back unchanged
 * (status, content type, bytes), and whose {@code healthy} is the child's {@code /health}. Everything else — the
 * model's port, admission, deadlines, pings, the sample, hot swap, drain — is the server's ordinary cell around it,
 * so a process cell keeps the contract of an in-process one.
 *
 * <p>A child that cannot be reached mid-request (it died) answers 503, not a 500: the
 * server is restarting it.
 */
public final class ProcessModel implements Model {

    /** Headers a request keeps on its way to the child: its id, and the Open Inference Protocol's marker. */
    private static final List<String> FORWARDED = List.of("x-request-id", "x-deployer-protocol", "accept");
    /** How long a stop waits for the child to close its cell before it is killed. */
    static final long STOP_GRACE_MS = 10_000;
    private static final long HEALTH_TIMEOUT_MS = 5_000;

    private final String cellName;
    private final Manifest manifest;
    private final List<String> command;
    private final Map<String, String> environment;
    private final HttpClient http;
    private final ProcessCells cells;
    private final Consumer<String> died;
    private volatile ChildProcess child;
    private volatile URI health;
    private volatile FramePool frames;
    /** The folder of the child's Unix socket, made here and deleted when the child has gone; null for TCP. */
    private volatile Path socketFolder;

    ProcessModel(String cellName, Manifest manifest, List<String> command, Map<String, String> environment,
                 HttpClient http, ProcessCells cells, Consumer<String> died) {
        this.cellName = cellName;
        this.manifest = manifest;
        this.command = List.copyOf(command);
        this.environment = environment;
        this.http = http;
        this.cells = cells;
        this.died = died;
    }

    /** Starts the child and waits (interruptibly: a cancel or the load deadline ends it) until its model is READY. */
    @Override
    public void load(ModelContext context) throws Exception {
        System.Logger log = context.logger();
        java.util.concurrent.atomic.AtomicLong pid = new java.util.concurrent.atomic.AtomicLong();
        Path folder = FrameAddress.newUnixFolder();
        socketFolder = folder;
        List<String> run = new java.util.ArrayList<>(command);
        // The child takes a few more connections than the pool opens: one dropped past its deadline may still be
        // held there by the model's code when its successor comes.
        run.addAll(List.of("--frames", folder == null ? FrameAddress.TCP : folder.toString(), "--frames-max",
                Integer.toString(2 * manifest.limits().maxConcurrent() + 1)));
        ChildProcess started;
        try {
            started = ChildProcess.start(run, environment, cellName,
                    line -> log.log(System.Logger.Level.INFO, "[process " + pid.get() + "] " + line), why -> {
                        gone();
                        died.accept(why);
                    });
        } catch (IOException | RuntimeException e) {
            FrameAddress.deleteQuietly(folder);
            throw e;
        }
        pid.set(started.pid());
        child = started;
        int port;
        try {
            port = started.port().get();
        } catch (ExecutionException e) {
            gone();
            throw new IllegalStateException(started.exitText());
        } catch (InterruptedException e) {
            started.stop(0);
            gone();
            throw e;
        }
        FrameAddress address = folder != null ? FrameAddress.unix(folder.resolve(FrameAddress.SOCKET))
                : FrameAddress.tcp(started.framesPort());
        if (address.unix() == null && address.port() == 0) {
            started.stop(STOP_GRACE_MS);
            gone();
            throw new IllegalStateException("the model's process (pid " + started.pid() + ") did not say where it"
                    + " takes requests");
        }
        FramePool pool = new FramePool(address, manifest.limits().maxConcurrent());
        frames = pool;
        cells.watch(pool);
        health = URI.create("http://" + ProcessCells.CHILD_HOST + ":" + port + "/health");
        log.log(System.Logger.Level.INFO, "serving in process " + started.pid() + " on loopback port " + port
                + ", requests through " + address);
        if (manifest.runtime() != null) {
            keepSignature(port, context.directory());
        }
    }

    /**
     * A no-code runtime writes the graph's real inputs and outputs into its package folder, which for a child is
     * its own copy; the server's {@code GET /v2/models/{m}} reads them from the server's folder, so they are copied
     * there from the child's answer to the same call.
     */
    private void keepSignature(int port, Path folder) {
        try {
            HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(URI.create("http://"
                    + ProcessCells.CHILD_HOST + ":" + port + "/v2/models/" + manifest.name()))
                    .timeout(Duration.ofMillis(HEALTH_TIMEOUT_MS)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (answer.statusCode() == 200) {
                Path file = folder.resolve(".deployer").resolve("signature.json");
                java.nio.file.Files.createDirectories(file.getParent());
                Path temp = java.nio.file.Files.createTempFile(file.getParent(), "signature", ".tmp");
                java.nio.file.Files.write(temp, answer.body());
                java.nio.file.Files.move(temp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            // the metadata then shows deploy.json's tensors only, as before the graph was read
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The request itself: the child prepares it, as the model's own code would in the server. */
    @Override
    public Object prepare(Request request) {
        return request;
    }

    @Override
    public Object score(Object input) throws Exception {
        Request request = (Request) input;
        List<String> headers = new java.util.ArrayList<>(2 * FORWARDED.size());
        for (String name : FORWARDED) {
            List<String> values = request.headers().get(name);
            if (values != null) {
                for (String value : values) {
                    headers.add(name);
                    headers.add(value);
                }
            }
        }
        Frames.Request frame = new Frames.Request(Frames.PREDICT, request.contentType(), headers, request.body());
        try {
            // A second past the cell's own deadline: by then the client has had its 504, and a connection the
            // model's process still holds is closed rather than waited on.
            return frames.exchange(frame, manifest.limits().timeoutMs() + 1_000);
        } catch (IOException e) {
            ChildProcess current = child;
            return new Unreachable(current != null && !current.alive() ? current.exitText()
                    : "the model's process did not answer: " + e.getMessage());
        }
    }

    @Override
    public Reply reply(Object prediction) {
        if (prediction instanceof Unreachable gone) {
            return Reply.bytes("application/json", ("{\"error\": " + quoted("model " + manifest.name()
                    + " cannot answer now: " + gone.why + "; it is being restarted, retry shortly") + "}")
                    .getBytes(StandardCharsets.UTF_8)).status(503);
        }
        Frames.Reply answer = (Frames.Reply) prediction;
        String type = answer.contentType().isEmpty() ? "application/octet-stream" : answer.contentType();
        return Reply.bytes(type, answer.body()).status(answer.status());
    }

    /** The child is alive and its {@code /health} answers 200. */
    @Override
    public boolean healthy() {
        ChildProcess current = child;
        if (current == null || !current.alive()) {
            return false;
        }
        try {
            HttpResponse<Void> answer = http.sendAsync(HttpRequest.newBuilder(health)
                    .timeout(Duration.ofMillis(HEALTH_TIMEOUT_MS)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).get(HEALTH_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return answer.statusCode() == 200;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }  catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops the child: its input closes, it closes its cell and exits; killed if it takes too long. */
    @Override
    public void close() {
        ChildProcess current = child;
        if (current != null) {
            current.stop(STOP_GRACE_MS);
        }
        gone();
    }

    /** The child has gone (or is going): its connections close, its socket's folder is deleted. */
    private void gone() {
        FramePool pool = frames;
        if (pool != null) {
            cells.unwatch(pool);
            pool.close();
        }
        FrameAddress.deleteQuietly(socketFolder);
    }

    /** The child's process id; -1 before it started. */
    public long pid() {
        ChildProcess current = child;
        return current == null ? -1 : current.pid();
    }

    /** The child's heap ceiling ({@code jvm.heap_mb}); 0 when the JVM's default applies. */
    public int heapMb() {
        return manifest.isolation().heapMb();
    }

    /** The child's resident memory in KiB; -1 when unknown. */
    public long rssKb() {
        ChildProcess current = child;
        return current == null ? -1 : current.rssKb();
    }

    private record Unreachable(String why) {
    }

    private static String quoted(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
