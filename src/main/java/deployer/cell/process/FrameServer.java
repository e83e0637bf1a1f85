package deployer.cell.process;

import deployer.cell.Call;
import deployer.cell.CellRequest;
import deployer.cell.CellResponse;
import deployer.cell.ModelSlot;
import deployer.core.DeployerException;
import deployer.core.Json;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In a process cell's child ({@code deployer cell --supervised --frames …}): takes the server's {@link Frames} on
 * kept connections and answers each through the same scoring path as the child's HTTP {@code /predict} — the model's
 * {@link ModelSlot#admit admission}, {@link Call#score} with its deadline, {@link Call#finish} metering — so there is
 * no second copy of scoring. One thread per connection reads a request, runs the model's code on itself (as a thread
 * of the model's own port does) and writes the reply; the server keeps at most the model's
 * {@code limits.max_concurrent} connections, and this side takes no more than it was told.
 */
public final class FrameServer implements AutoCloseable {

    /** What the child prints once the frames are served: the server learns a TCP port from it. */
    public static final String ANNOUNCE = "deployer cell frames on ";
    private static final Logger log = LoggerFactory.getLogger(FrameServer.class);
    /** The largest body a frame brings: the largest {@code limits.max_body_mb} a manifest may set. */
    private static final long MAX_BODY = 1024L << 20;

    private final ModelSlot slot;
    private final ServerSocketChannel server;
    private final FrameAddress address;
    private final Path folder;
    private final int maxConnections;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    private FrameServer(ModelSlot slot, ServerSocketChannel server, FrameAddress address, Path folder,
                        int maxConnections) {
        this.slot = slot;
        this.server = server;
        this.address = address;
        this.folder = folder;
        this.maxConnections = maxConnections;
    }

    /**
     * Serves {@code slot}'s model from {@code where}: the folder the server made for the Unix socket, or
     * {@code "tcp"} for a loopback port; at most {@code maxConnections} at once (more are closed as they come).
     */
    public static FrameServer start(ModelSlot slot, String where, int maxConnections) throws IOException {
        ServerSocketChannel server = FrameAddress.bind(where);
        FrameAddress address = FrameAddress.TCP.equals(where)
                ? FrameAddress.tcp(((InetSocketAddress) server.getLocalAddress()).getPort())
                : FrameAddress.unix(Path.of(where).resolve(FrameAddress.SOCKET));
        FrameServer frames = new FrameServer(slot, server, address, FrameAddress.TCP.equals(where) ? null
                : Path.of(where), Math.max(1, maxConnections));
        Thread accept = new Thread(frames::accept, "cell-frames-accept");
        accept.setDaemon(true);
        accept.start();
        return frames;
    }

    /** Where the server reaches this, as {@link #ANNOUNCE} prints it. */
    public String address() {
        return address.toString();
    }

    private void accept() {
        while (!closed.get()) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                if (!closed.get()) {
                    log.warn("cell frames: accepting a connection failed, no longer serving frames: {}",
                            e.toString());
                }
                return;
            }
            if (open.size() >= maxConnections) {
                // More than the server's pool may hold: not the server, or a bug; either way not served.
                log.debug("cell frames: over {} connections, one closed", maxConnections);
                closeQuietly(channel);
                continue;
            }
            open.add(channel);
            Thread thread = new Thread(() -> serve(channel), "cell-frames-" + count.incrementAndGet());
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** One connection: request, reply, request, reply … until the server closes it or it goes out of step. */
    private void serve(SocketChannel channel) {
        try (channel) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel),
                    16 * 1024));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel),
                    16 * 1024));
            while (!closed.get()) {
                Frames.Request request = Frames.readRequest(in, MAX_BODY);
                if (request == null) {
                    return;
                }
                Frames.Reply reply = answer(request);
                try {
                    Frames.write(out, reply);
                } catch (IllegalArgumentException e) {
                    // The model's content type is too long for a frame; nothing was written yet.
                    Frames.write(out, error(500, "model " + slot.name() + " answered a content type too long to"
                            + " send: " + e.getMessage()));
                }
                if (reply.last()) {
                    return;
                }
            }
        } catch (IOException e) {
            // The server closed the connection mid-frame (a deadline, its stop) or the frame was out of step.
            log.debug("cell frames: connection ended: {}", e.toString());
        } finally {
            open.remove(channel);
        }
    }

    /** One request through the scoring path; every failure is an answer, as on {@code /predict}. */
    Frames.Reply answer(Frames.Request request) {
        Map<String, List<String>> headers = headers(request.headers());
        List<String> ids = headers.get("x-request-id");
        String requestId = ids != null ? ids.get(0) : Long.toHexString(ThreadLocalRandom.current().nextLong());
        Call call;
        try {
            call = slot.admit(requestId);
        } catch (DeployerException e) {
            return error(e.kind().status(), e.getMessage());
        }
        Frames.Reply reply;
        try {
            if (request.body().length > call.maxBodyBytes()) {
                throw DeployerException.tooLarge("the request body is over " + (call.maxBodyBytes() >> 20)
                        + " MiB, the limit of model " + call.model() + " (limits.max_body_mb); send smaller batches");
            }
            CompletableFuture<CellResponse> answer = new CompletableFuture<>();
            // On this thread, as a thread of the model's own port scores: all has happened when this returns, the
            // answer or the deadline's 504 is there.
            call.score(new CellRequest(request.contentType(), request.body(), headers), true, (done, failure) -> {
                if (failure != null) {
                    answer.completeExceptionally(failure);
                } else {
                    answer.complete(done);
                }
            });
            CellResponse done = answer.get();
            reply = new Frames.Reply(done.status(), done.contentType() == null ? "" : done.contentType(),
                    List.of("x-deployer-version", Integer.toString(call.version())), done.body(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reply = error(503, "the model's process is stopping; retry shortly");
        } catch (ExecutionException | RuntimeException e) {
            reply = failure(e instanceof ExecutionException || e instanceof CompletionException ? e.getCause() : e);
        }
        call.finish(reply.status());
        return reply;
    }

    /** A failure of the scoring path as the one error table answers it: its kind's status and message. */
    private Frames.Reply failure(Throwable failure) {
        if (failure instanceof DeployerException known) {
            return error(known.kind().status(), known.getMessage());
        }
        // The scoring path turns every failure of a model into a DeployerException: this one is a bug of ours.
        String id = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        log.error("internal error, request id {}", id, failure);
        return new Frames.Reply(500, "application/json", List.of(), json(Map.of("error", "internal error; the"
                + " server's log has the details under request id " + id, "request_id", id)), false);
    }

    private static Frames.Reply error(int status, String message) {
        return new Frames.Reply(status, "application/json", List.of(), json(Map.of("error", message)), false);
    }

    private static byte[] json(Map<String, Object> body) {
        return Json.writeString(body).getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, List<String>> headers(List<String> pairs) {
        Map<String, List<String>> headers = new HashMap<>();
        for (int i = 0; i + 1 < pairs.size(); i += 2) {
            String name = pairs.get(i);
            List<String> had = headers.get(name);
            if (had == null) {
                headers.put(name, List.of(pairs.get(i + 1)));
            } else {
                List<String> more = new ArrayList<>(had);
                more.add(pairs.get(i + 1));
                headers.put(name, List.copyOf(more));
            }
        }
        return Collections.unmodifiableMap(headers);
    }

    /** Stops taking frames: the listening socket and every connection close; the socket's folder goes. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        closeQuietly(server);
        open.forEach(FrameServer::closeQuietly);
        FrameAddress.deleteQuietly(folder);
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // closing is all that was wanted
        }
    }
}
