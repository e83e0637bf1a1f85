package deployer.cell.process;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The server's kept connections to one child's {@link FrameServer}: the calling thread (a thread of the model's port,
 * or a cell worker) takes one, writes its request frame, reads the reply frame itself and gives the connection back —
 * no selector, no hand-off, no thread of its own. At most {@code max} are open (the model's
 * {@code limits.max_concurrent}: the cell admits no more requests than that), so no client can make the server open
 * more. A connection that fails in any way, or that {@link #closeOverdue} closed past its deadline, is dropped, never
 * used again: a frame half written or half read leaves it out of step.
 */
final class FramePool implements AutoCloseable {

    /** The largest reply taken: a Java array's. The body is read as it comes, not allocated from its length. */
    static final long MAX_REPLY = Integer.MAX_VALUE - 16;
    private static final int BUFFER = 16 * 1024;

    private final FrameAddress address;
    private final int max;
    private final Semaphore slots;
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    FramePool(FrameAddress address, int max) {
        this.address = address;
        this.max = max;
        this.slots = new Semaphore(max);
    }

    /**
     * Sends one request and waits for its reply, at most {@code timeoutMs} in all (then {@link #closeOverdue} closes
     * the connection under it).
     *
     * @throws IOException the child cannot be reached, closed the connection, answered out of step or was too slow
     */
    Frames.Reply exchange(Frames.Request request, long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try {
            if (!slots.tryAcquire() && !slots.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS)) {
                throw new IOException("all " + max + " connections to the model's process stayed busy for "
                        + timeoutMs + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a connection to the model's process");
        }
        Connection connection = null;
        try {
            connection = idle.pollFirst();
            if (connection == null) {
                connection = open();
            }
            connection.deadline = deadline;
            Frames.write(connection.out, request);
            Frames.Reply reply = Frames.readReply(connection.in, MAX_REPLY);
            connection.deadline = 0;
            if (reply.last() || closed || connection.expired) {
                drop(connection);
            } else {
                idle.offerFirst(connection);
            }
            connection = null;
            return reply;
        } catch (IOException | RuntimeException e) {
            if (connection != null && connection.expired) {
                throw new IOException("no reply within " + timeoutMs + " ms", e);
            }
            throw e;
        } finally {
            if (connection != null) {
                drop(connection);
            }
            slots.release();
        }
    }

    private Connection open() throws IOException {
        if (closed) {
            throw new IOException("the model's process is stopping");
        }
        Connection connection = new Connection(address.connect());
        open.add(connection);
        if (closed) {
            drop(connection);
            throw new IOException("the model's process is stopping");
        }
        return connection;
    }

    private void drop(Connection connection) {
        open.remove(connection);
        idle.remove(connection);
        connection.close();
    }

    /** Closes every connection whose exchange passed its deadline: the thread waiting on it gets an error at once. */
    void closeOverdue(long nanoNow) {
        for (Connection connection : open) {
            long deadline = connection.deadline;
            if (deadline != 0 && nanoNow - deadline > 0) {
                connection.expired = true;
                connection.close();
            }
        }
    }

    /** Connections open now (in use or idle). */
    int size() {
        return open.size();
    }

    /** Closes every connection; an exchange under way fails, a later one is refused. */
    @Override
    public void close() {
        closed = true;
        for (Connection connection : open) {
            drop(connection);
        }
    }

    private static final class Connection {
        final SocketChannel channel;
        final DataInputStream in;
        final DataOutputStream out;
        /** {@code System.nanoTime()} by which the exchange under way must be done; 0 while idle. */
        volatile long deadline;
        volatile boolean expired;

        Connection(SocketChannel channel) {
            this.channel = channel;
            this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), BUFFER));
            this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), BUFFER));
        }

        void close() {
            try {
                channel.close();
            } catch (IOException e) {
                // closing is all that was wanted
            }
        }
    }
}
