package deployer.cell.process;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The wire format of the hop between the server and a process cell's child: one request frame, then one reply
 * frame, on a connection kept for many such pairs. Each frame is two length-prefixed parts, a head and a body:
 *
 * <pre>
 * frame   = int headLength, head, int bodyLength, body
 * request head = byte VERSION, byte kind (PREDICT), text contentType, short n, n × (text name, text value)
 * reply head   = byte VERSION, byte kind (REPLY), short status, byte flags (LAST), text contentType,
 *                short n, n × (text name, text value)
 * text    = int length, that many bytes of UTF-8
 * </pre>
 *
 * A head is at most {@link #MAX_HEAD_BYTES}; a body at most the reader's limit, and read in steps as it arrives, so a
 * length that lies allocates no more than what was really sent. Anything else — a truncated frame, a wrong version or
 * kind, a length out of range — is a {@link FrameException} or an {@link EOFException}: the connection that carried it
 * is out of step and must be closed, never used again.
 */
final class Frames {

    static final byte VERSION = 1;
    /** A request for the cell's {@code /predict}: its content type, the headers that matter, its body. */
    static final byte PREDICT = 1;
    static final byte REPLY = 2;
    /** Reply flag: the child closes the connection after this reply (the server discards it). */
    static final int LAST = 1;
    static final int MAX_HEAD_BYTES = 1 << 20;
    private static final int MAX_HEADERS = 1024;
    /** A body is read in steps of at most this, growing its array as bytes really arrive. */
    static final int STEP_BYTES = 1 << 20;

    private Frames() {
    }

    /**
     * A request frame.
     *
     * @param headers name, value, name, value … (names in lower case)
     */
    record Request(byte kind, String contentType, List<String> headers, byte[] body) {
    }

    /**
     * A reply frame.
     *
     * @param headers name, value, name, value … of headers the cell set
     * @param last whether the child closes the connection after it
     */
    record Reply(int status, String contentType, List<String> headers, byte[] body, boolean last) {
    }

    /** A frame that does not follow the format: the connection is out of step. */
    static final class FrameException extends IOException {
        FrameException(String message) {
            super(message);
        }
    }

    static void write(DataOutputStream out, Request request) throws IOException {
        Head head = new Head();
        head.writeByte(VERSION);
        head.writeByte(request.kind());
        head.text(request.contentType());
        head.headers(request.headers());
        send(out, head, request.body());
    }

    static void write(DataOutputStream out, Reply reply) throws IOException {
        Head head = new Head();
        head.writeByte(VERSION);
        head.writeByte(REPLY);
        head.writeShort(reply.status());
        head.writeByte(reply.last() ? LAST : 0);
        head.text(reply.contentType());
        head.headers(reply.headers());
        send(out, head, reply.body());
    }

    /**
     * Reads one request frame; null when the stream ends cleanly before a frame starts (the server closed the
     * connection).
     *
     * @param maxBody the largest body taken; a longer one is a {@link FrameException}
     */
    static Request readRequest(DataInputStream in, long maxBody) throws IOException {
        ByteBuffer head = head(in);
        if (head == null) {
            return null;
        }
        try {
            version(head);
            byte kind = head.get();
            if (kind != PREDICT) {
                throw new FrameException("unknown request kind " + kind);
            }
            String contentType = text(head);
            List<String> headers = headers(head);
            end(head);
            return new Request(kind, contentType, headers, body(in, maxBody));
        } catch (BufferUnderflowException e) {
            throw new FrameException("the request head ends early");
        }
    }

    /** Reads one reply frame; the stream ending first is an {@link EOFException}. */
    static Reply readReply(DataInputStream in, long maxBody) throws IOException {
        ByteBuffer head = head(in);
        if (head == null) {
            throw new EOFException("the connection closed before a reply");
        }
        try {
            version(head);
            byte kind = head.get();
            if (kind != REPLY) {
                throw new FrameException("expected a reply, got kind " + kind);
            }
            int status = head.getShort();
            if (status < 100 || status > 599) {
                throw new FrameException("reply status " + status + " is not an HTTP status");
            }
            boolean last = (head.get() & LAST) != 0;
            String contentType = text(head);
            List<String> headers = headers(head);
            end(head);
            return new Reply(status, contentType, headers, body(in, maxBody), last);
        } catch (BufferUnderflowException e) {
            throw new FrameException("the reply head ends early");
        }
    }

    private static void send(DataOutputStream out, Head head, byte[] body) throws IOException {
        if (head.size() > MAX_HEAD_BYTES) {
            // Nothing is written yet: the caller may still send something else on this connection.
            throw new IllegalArgumentException("the frame's head is " + head.size() + " bytes, over "
                    + MAX_HEAD_BYTES + " (a content type or header that long)");
        }
        out.writeInt(head.size());
        head.writeTo(out);
        out.writeInt(body.length);
        out.write(body);
        out.flush();
    }

    /** The head's bytes; null at a clean end of the stream before the frame. */
    private static ByteBuffer head(DataInputStream in) throws IOException {
        int first = in.read();
        if (first < 0) {
            return null;
        }
        int length = (first << 24) | (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8)
                | in.readUnsignedByte();
        if (length < 2 || length > MAX_HEAD_BYTES) {
            throw new FrameException("frame head of " + length + " bytes (0 to " + MAX_HEAD_BYTES + " taken)");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return ByteBuffer.wrap(bytes);
    }

    private static byte[] body(DataInputStream in, long maxBody) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > maxBody) {
            throw new FrameException("frame body of " + length + " bytes (0 to " + maxBody + " taken)");
        }
        if (length <= STEP_BYTES) {
            byte[] body = new byte[length];
            in.readFully(body);
            return body;
        }
        byte[] body = new byte[STEP_BYTES];
        int read = 0;
        while (read < length) {
            if (read == body.length) {
                body = Arrays.copyOf(body, (int) Math.min(length, 2L * body.length));
            }
            int n = in.read(body, read, body.length - read);
            if (n < 0) {
                throw new EOFException("the frame body ends after " + read + " of " + length + " bytes");
            }
            read += n;
        }
        return body;
    }

    private static void version(ByteBuffer head) throws FrameException {
        byte version = head.get();
        if (version != VERSION) {
            throw new FrameException("frame version " + version + ", this side speaks " + VERSION);
        }
    }

    private static void end(ByteBuffer head) throws FrameException {
        if (head.hasRemaining()) {
            throw new FrameException(head.remaining() + " bytes left over after the frame's head");
        }
    }

    private static String text(ByteBuffer head) throws FrameException {
        int length = head.getInt();
        if (length < 0 || length > head.remaining()) {
            throw new FrameException("a text of " + length + " bytes in a head with " + head.remaining() + " left");
        }
        String text = new String(head.array(), head.position(), length, StandardCharsets.UTF_8);
        head.position(head.position() + length);
        return text;
    }

    private static List<String> headers(ByteBuffer head) throws FrameException {
        int n = head.getShort();
        if (n < 0 || n > MAX_HEADERS) {
            throw new FrameException(n + " headers in a frame (0 to " + MAX_HEADERS + " taken)");
        }
        List<String> headers = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            headers.add(text(head));
            headers.add(text(head));
        }
        return headers;
    }

    /** A head being written: its length goes before it. */
    private static final class Head extends DataOutputStream {

        Head() {
            super(new ByteArrayOutputStream(128));
        }

        void text(String value) throws IOException {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            writeInt(bytes.length);
            write(bytes);
        }

        void headers(List<String> headers) throws IOException {
            if (headers.size() % 2 != 0 || headers.size() / 2 > MAX_HEADERS) {
                throw new IllegalArgumentException("headers come as name, value pairs, at most " + MAX_HEADERS);
            }
            writeShort(headers.size() / 2);
            for (String part : headers) {
                text(part);
            }
        }

        void writeTo(DataOutputStream out) throws IOException {
            ((ByteArrayOutputStream) this.out).writeTo(out);
        }
    }
}
