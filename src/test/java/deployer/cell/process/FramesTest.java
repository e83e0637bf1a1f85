package deployer.cell.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hop between the server and a process cell's child: the frame format read back from its bytes, and the server's
 * pool against a stand-in child on a real Unix domain socket that answers each request as its content type says
 * (echo it, cut its reply short, answer big, or never answer).
 */
class FramesTest {

    private Path folder;
    private ServerSocketChannel listening;
    private final AtomicInteger accepted = new AtomicInteger();
    private FramePool pool;

    @BeforeEach
    void standInChild() throws IOException {
        folder = FrameAddress.newUnixFolder();
        assertThat(folder).as("Unix domain sockets on this box").isNotNull();
        assertThat(folder.resolve(FrameAddress.SOCKET).toString().length()).isLessThanOrEqualTo(
                FrameAddress.MAX_UNIX_PATH);
        listening = FrameAddress.bind(folder.toString());
        Thread accept = new Thread(this::accept, "frames-test-child");
        accept.setDaemon(true);
        accept.start();
        pool = new FramePool(FrameAddress.unix(folder.resolve(FrameAddress.SOCKET)), 4);
    }

    @AfterEach
    void close() throws IOException {
        pool.close();
        listening.close();
        FrameAddress.deleteQuietly(folder);
    }

    @Test
    void requestAndReplyComeBackAsWritten() throws IOException {
        byte[] body = "{\"features\": [1, 2]}".getBytes(StandardCharsets.UTF_8);
        Frames.Request request = new Frames.Request(Frames.PREDICT, "application/json; charset=utf-8",
                List.of("x-request-id", "r-1", "accept", "a/b", "accept", "c/d"), body);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Frames.write(new DataOutputStream(bytes), request);
        Frames.write(new DataOutputStream(bytes), new Frames.Reply(422, "text/plain", List.of("x-a", "é"),
                new byte[0], true));

        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        Frames.Request read = Frames.readRequest(in, 1 << 20);
        assertThat(read.kind()).isEqualTo(Frames.PREDICT);
        assertThat(read.contentType()).isEqualTo("application/json; charset=utf-8");
        assertThat(read.headers()).containsExactly("x-request-id", "r-1", "accept", "a/b", "accept", "c/d");
        assertThat(read.body()).isEqualTo(body);
        Frames.Reply reply = Frames.readReply(in, 1 << 20);
        assertThat(reply.status()).isEqualTo(422);
        assertThat(reply.contentType()).isEqualTo("text/plain");
        assertThat(reply.headers()).containsExactly("x-a", "é");
        assertThat(reply.body()).isEmpty();
        assertThat(reply.last()).isTrue();
        assertThat(Frames.readRequest(in, 1 << 20)).as("a clean end before the next frame").isNull();
    }

    @Test
    void aTruncatedFrameIsAnErrorNotAShorterBody() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Frames.write(new DataOutputStream(bytes), new Frames.Request(Frames.PREDICT, "application/json", List.of(),
                new byte[100]));
        byte[] whole = bytes.toByteArray();
        for (int cut : new int[] {2, 6, whole.length - 101, whole.length - 1}) {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(Arrays.copyOf(whole, cut)));
            assertThatThrownBy(() -> Frames.readRequest(in, 1 << 20)).as("cut at %d of %d", cut, whole.length)
                    .isInstanceOf(EOFException.class);
        }
    }

    @Test
    void aFrameOutOfStepOrOverItsLimitIsRefused() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Frames.write(new DataOutputStream(bytes), new Frames.Request(Frames.PREDICT, "", List.of(), new byte[100]));
        assertThatThrownBy(() -> Frames.readRequest(new DataInputStream(new ByteArrayInputStream(
                bytes.toByteArray())), 99)).isInstanceOf(Frames.FrameException.class).hasMessageContaining("100 bytes");
        assertThatThrownBy(() -> Frames.readReply(new DataInputStream(new ByteArrayInputStream(
                bytes.toByteArray())), 1000)).isInstanceOf(Frames.FrameException.class)
                .hasMessageContaining("expected a reply");
        byte[] garbage = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> Frames.readRequest(new DataInputStream(new ByteArrayInputStream(garbage)), 1000))
                .isInstanceOf(Frames.FrameException.class).hasMessageContaining("frame head of");
    }

    @Test
    void connectionsAreKeptAndReused() throws IOException {
        for (int i = 0; i < 5; i++) {
            Frames.Reply reply = pool.exchange(request("echo", "hello " + i), 5_000);
            assertThat(new String(reply.body(), StandardCharsets.UTF_8)).isEqualTo("hello " + i);
        }
        assertThat(accepted.get()).isEqualTo(1);
        assertThat(pool.size()).isEqualTo(1);
    }

    @Test
    void aConnectionBrokenMidFrameIsDroppedNotReused() throws IOException {
        pool.exchange(request("echo", "first"), 5_000);
        assertThatThrownBy(() -> pool.exchange(request("cut", "half"), 5_000)).isInstanceOf(EOFException.class);
        assertThat(pool.size()).isZero();

        Frames.Reply reply = pool.exchange(request("echo", "after"), 5_000);
        assertThat(new String(reply.body(), StandardCharsets.UTF_8)).isEqualTo("after");
        assertThat(accepted.get()).as("a new connection for the request after the break").isEqualTo(2);
    }

    @Test
    void aReplyBiggerThanEveryBufferArrivesWhole() throws IOException {
        Frames.Reply reply = pool.exchange(request("big", "5"), 10_000);
        byte[] expected = big(5 * Frames.STEP_BYTES + 123);
        assertThat(reply.body().length).isEqualTo(expected.length);
        assertThat(reply.body()).isEqualTo(expected);
        assertThat(pool.exchange(request("echo", "next"), 5_000).body()).asString(StandardCharsets.UTF_8)
                .isEqualTo("next");
    }

    @Test
    void anExchangePastItsDeadlineIsCutOffAndItsConnectionDropped() throws IOException {
        Thread watch = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                pool.closeOverdue(System.nanoTime());
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
        }, "frames-test-watch");
        watch.setDaemon(true);
        watch.start();
        try {
            long start = System.nanoTime();
            assertThatThrownBy(() -> pool.exchange(request("silent", ""), 300)).isInstanceOf(IOException.class)
                    .hasMessageContaining("no reply within 300 ms");
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
            assertThat(pool.size()).isZero();
            assertThat(pool.exchange(request("echo", "again"), 5_000).body()).asString(StandardCharsets.UTF_8)
                    .isEqualTo("again");
        } finally {
            watch.interrupt();
        }
    }

    @Test
    void theServerOpensNoMoreConnectionsThanItsBound() throws Exception {
        FramePool one = new FramePool(FrameAddress.unix(folder.resolve(FrameAddress.SOCKET)), 1);
        try {
            Thread silent = new Thread(() -> {
                try {
                    one.exchange(request("silent", ""), 3_000);
                } catch (IOException e) {
                    // cut off when the pool closes
                }
            });
            silent.start();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> one.size() == 1);
            assertThatThrownBy(() -> one.exchange(request("echo", "second"), 200)).isInstanceOf(IOException.class)
                    .hasMessageContaining("all 1 connections");
            assertThat(one.size()).isEqualTo(1);
            one.close();
            silent.join(5_000);
        } finally {
            one.close();
        }
    }

    private static Frames.Request request(String behaviour, String body) {
        return new Frames.Request(Frames.PREDICT, behaviour, List.of("x-request-id", "t"),
                body.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] big(int n) {
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) (i * 31 + (i >>> 8));
        }
        return bytes;
    }

    private void accept() {
        while (listening.isOpen()) {
            try {
                SocketChannel channel = listening.accept();
                accepted.incrementAndGet();
                Thread serve = new Thread(() -> serve(channel), "frames-test-conn");
                serve.setDaemon(true);
                serve.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** The stand-in child: each request's content type says how to answer it. */
    private static void serve(SocketChannel channel) {
        try (channel) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel)));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel)));
            for (Frames.Request request = Frames.readRequest(in, 1 << 20); request != null;
                 request = Frames.readRequest(in, 1 << 20)) {
                switch (request.contentType()) {
                    case "echo" -> Frames.write(out, new Frames.Reply(200, "text/plain", List.of(), request.body(),
                            false));
                    case "big" -> Frames.write(out, new Frames.Reply(200, "application/octet-stream", List.of(),
                            big(Integer.parseInt(new String(request.body(), StandardCharsets.UTF_8))
                                    * Frames.STEP_BYTES + 123), false));
                    case "cut" -> {
                        ByteArrayOutputStream whole = new ByteArrayOutputStream();
                        Frames.write(new DataOutputStream(whole), new Frames.Reply(200, "text/plain", List.of(),
                                new byte[1000], false));
                        out.write(whole.toByteArray(), 0, whole.size() / 2);
                        out.flush();
                        return;
                    }
                    case "silent" -> {
                        // reads on, never answers: the server's deadline must free its thread
                        while (in.read() >= 0) {
                            continue;
                        }
                        return;
                    }
                    default -> throw new IllegalStateException(request.contentType());
                }
            }
        } catch (IOException e) {
            // the pool closed the connection
        }
    }
}
