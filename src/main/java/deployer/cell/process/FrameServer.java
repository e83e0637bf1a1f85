package deployer.cell.process;

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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In a process cell's child ({@code deployer cell --supervised --frames …}): takes the server's {@link Frames} on
 * kept connections and answers each through {@link Scoring}, the same scoring path as the child's HTTP
 * {@code /predict} (admission, deadline, metering: {@code deployer.cell.FrameScoring}), so there is no second copy of
 * scoring. One thread per connection reads a request, runs the model's code on itself (as a thread of the model's own
 * port does) and writes the reply; the server keeps at most the model's
 * {@code limits.max_concurrent} connections, and this side takes no more than it was told.
 */
public final class FrameServer implements AutoCloseable {

    /** What the child prints once the frames are served: the server learns a TCP port from it. */
    public static final String ANNOUNCE = "deployer cell frames on ";
    private static final Logger log = LoggerFactory.getLogger(FrameServer.class);
    /** The largest body a frame brings: the largest {@code limits.max_body_mb} a manifest may set. */
    private static final long MAX_BODY = 1024L << 20;

    private final Scoring scoring;
    private final String name;
    private final ServerSocketChannel server;
    private final FrameAddress address;
    private final Path folder;
    private final int maxConnections;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    private FrameServer(Scoring scoring, String name, ServerSocketChannel server, FrameAddress address, Path folder,
                        int maxConnections) {
        this.scoring = scoring;
        this.name = name;
        this.server = server;
        this.address = address;
        this.folder = folder;
        this.maxConnections = maxConnections;
    }

    /**
     * What answers one frame: the scoring path of the child's one model ({@code deployer.cell.FrameScoring}, beside
     * the path it calls, since {@code deployer.cell} already depends on this package). It runs on the connection's
     * thread, which may run the model's code, and answers every failure of the request itself.
     */
    @FunctionalInterface
    public interface Scoring {

        /**
         * @param headers names in lower case, unmodifiable
         */
        Answer score(String contentType, byte[] body, Map<String, List<String>> headers);
    }

    /**
     * A reply as the scoring path made it.
     *
     * @param headers name, value, name, value … of headers it set
     */
    public record Answer(int status, String contentType, List<String> headers, byte[] body) {
    }

    /**
     * Serves model {@code name} through {@code scoring} from {@code where}: the folder the server made for the Unix
     * socket, or {@code "tcp"} for a loopback port; at most {@code maxConnections} at once (more are closed as they
     * come).
     */
    public static FrameServer start(Scoring scoring, String name, String where, int maxConnections)
            throws IOException {
        ServerSocketChannel server = FrameAddress.bind(where);
        FrameAddress address = FrameAddress.TCP.equals(where)
                ? FrameAddress.tcp(((InetSocketAddress) server.getLocalAddress()).getPort())
                : FrameAddress.unix(Path.of(where).resolve(FrameAddress.SOCKET));
        FrameServer frames = new FrameServer(scoring, name, server, address, FrameAddress.TCP.equals(where) ? null
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
                    Frames.write(out, error(500, "model " + name + " answered a content type too long to"
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

    /** One request to the scoring path; a failure it did not answer itself is a bug of ours, answered 500. */
    private Frames.Reply answer(Frames.Request request) {
        Answer answer;
        try {
            answer = scoring.score(request.contentType(), request.body(), headers(request.headers()));
        } catch (RuntimeException e) {
            return new Frames.Reply(500, "application/json", List.of(),
                    Json.writeString(deployer.core.OurBug.log(log, e).body()).getBytes(StandardCharsets.UTF_8), false);
        }
        return new Frames.Reply(answer.status(), answer.contentType() == null ? "" : answer.contentType(),
                answer.headers(), answer.body(), false);
    }

    private Frames.Reply error(int status, String message) {
        return new Frames.Reply(status, "application/json", List.of(), Json.writeString(Map.of("error", message))
                .getBytes(StandardCharsets.UTF_8), false);
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
