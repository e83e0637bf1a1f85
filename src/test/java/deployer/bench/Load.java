package deployer.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A closed-loop HTTP/1.1 load generator: {@code connections} keep-alive connections on one selector thread, each
 * sending the same POST again as soon as its previous answer is complete. Latency is from the first byte written to
 * the last byte read. One thread, so the generator costs the machine about one core whatever it drives, the same for
 * both sides of a comparison.
 */
final class Load {

    private final InetSocketAddress address;
    private final byte[] request;
    private final int connections;

    /** A POST of {@code body} (JSON) to {@code path}. */
    Load(int port, String path, byte[] body, int connections) {
        this(port, path, "application/json", "", body, connections);
    }

    /** A POST of {@code body} to {@code path}, with {@code headers} (each line ending in CR LF) beside its type. */
    Load(int port, String path, String contentType, String headers, byte[] body, int connections) {
        this.address = new InetSocketAddress("127.0.0.1", port);
        String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n" + headers
                + "Content-Type: " + contentType + "\r\nContent-Length: " + body.length + "\r\n\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        this.request = Arrays.copyOf(headBytes, headBytes.length + body.length);
        System.arraycopy(body, 0, request, headBytes.length, body.length);
        this.connections = connections;
    }

    /** What one run measured. Latencies in microseconds. */
    record Result(long requests, long failed, double seconds, long p50, long p99, long max, Map<String, Long> why) {

        Result(long requests, long failed, double seconds, long p50, long p99, long max) {
            this(requests, failed, seconds, p50, p99, max, Map.of());
        }

        double throughput() {
            return requests / seconds;
        }

        @Override
        public String toString() {
            return String.format("%.0f req/s, p50 %s, p99 %s, %d failed", throughput(), Table.micros(p50),
                    Table.micros(p99), failed) + (why.isEmpty() ? "" : " (" + String.join(", ", why.entrySet()
                    .stream().map(e -> e.getKey() + " ×" + e.getValue()).toList()) + ")");
        }
    }

    /** Rounds of one target as one result: their requests and time added up, their latencies the median round's. */
    static Result merge(List<Result> rounds) {
        long requests = 0;
        long failed = 0;
        double seconds = 0;
        long max = 0;
        List<Long> p50 = new ArrayList<>();
        List<Long> p99 = new ArrayList<>();
        Map<String, Long> why = new java.util.TreeMap<>();
        for (Result r : rounds) {
            requests += r.requests();
            failed += r.failed();
            r.why().forEach((k, v) -> why.merge(k, v, Long::sum));
            seconds += r.seconds();
            max = Math.max(max, r.max());
            p50.add(r.p50());
            p99.add(r.p99());
        }
        p50.sort(null);
        p99.sort(null);
        return new Result(requests, failed, seconds, p50.get(p50.size() / 2), p99.get(p99.size() / 2), max, why);
    }

    /** Runs {@code warmupMs} unmeasured, then {@code durationMs} measured. */
    Result run(long warmupMs, long durationMs) throws IOException {
        Running running = start(warmupMs);
        sleep(warmupMs + durationMs);
        return running.stop();
    }

    /** Starts the load; measuring begins after {@code warmupMs}, and ends at {@link Running#stop()}. */
    Running start(long warmupMs) throws IOException {
        Running running = new Running(warmupMs);
        Thread thread = new Thread(() -> {
            try {
                running.loop();
                running.done.complete(null);
            } catch (Throwable t) {
                running.done.completeExceptionally(t);
            }
        }, "bench-load");
        thread.setDaemon(true);
        thread.start();
        return running;
    }

    final class Running {
        private final long measureFrom;
        private volatile boolean stopping;
        private volatile long stoppedAt;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private long[] latencies = new long[1 << 16];
        private int count;
        private long failed;
        /** What the failed ones were: "status 502", or how the connection ended. */
        private final Map<String, Long> why = new java.util.HashMap<>();

        private Running(long warmupMs) {
            this.measureFrom = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMs);
        }

        /** Stops sending, waits for the loop to end and gives what was measured after the warm-up. */
        Result stop() throws IOException {
            stoppedAt = System.nanoTime();
            stopping = true;
            try {
                done.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException("the load generator failed: " + e, e);
            }
            long[] sorted = Arrays.copyOf(latencies, count);
            Arrays.sort(sorted);
            double seconds = Math.max(1e-9, (stoppedAt - measureFrom) / 1e9);
            return new Result(count, failed, seconds, percentile(sorted, 0.50), percentile(sorted, 0.99),
                    sorted.length == 0 ? 0 : sorted[sorted.length - 1], new java.util.TreeMap<>(why));
        }

        private void loop() throws IOException {
            try (Selector selector = Selector.open()) {
                List<Connection> all = new ArrayList<>();
                for (int i = 0; i < connections; i++) {
                    all.add(new Connection(selector));
                }
                while (!stopping) {
                    selector.select(100);
                    for (SelectionKey key : selector.selectedKeys()) {
                        Connection c = (Connection) key.attachment();
                        try {
                            c.ready(key);
                        } catch (IOException e) {
                            c.fail(e.getMessage() != null && e.getMessage().startsWith("closed by the server")
                                    ? e.getMessage() : e.getClass().getSimpleName());
                        }
                    }
                    selector.selectedKeys().clear();
                }
                for (Connection c : all) {
                    c.channel.close();
                }
            }
        }

        private void record(long nanos, String failure) {
            if (System.nanoTime() < measureFrom || stopping) {
                return;
            }
            if (failure != null) {
                failed++;
                why.merge(failure, 1L, Long::sum);
            }
            if (count == latencies.length) {
                latencies = Arrays.copyOf(latencies, count * 2);
            }
            latencies[count++] = nanos / 1000;
        }

        /** One keep-alive connection: write the request, read one answer, again. */
        private final class Connection {
            private final Selector selector;
            private SocketChannel channel;
            private final ByteBuffer out = ByteBuffer.wrap(request);
            private ByteBuffer in = ByteBuffer.allocate(16 * 1024);
            private long sentAt;
            /** The answer being read says the server closes the connection after it. */
            private boolean closing;

            Connection(Selector selector) throws IOException {
                this.selector = selector;
                open();
            }

            private void open() throws IOException {
                channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                if (channel.connect(address)) {
                    send();
                } else {
                    channel.register(selector, SelectionKey.OP_CONNECT, this);
                }
            }

            private void send() throws IOException {
                out.clear();
                in.clear();
                sentAt = System.nanoTime();
                channel.write(out);
                channel.register(selector, out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ, this);
            }

            void ready(SelectionKey key) throws IOException {
                if (key.isConnectable()) {
                    channel.finishConnect();
                    send();
                } else if (key.isWritable()) {
                    channel.write(out);
                    if (!out.hasRemaining()) {
                        key.interestOps(SelectionKey.OP_READ);
                    }
                } else if (key.isReadable()) {
                    if (!in.hasRemaining()) {
                        in = ByteBuffer.allocate(in.capacity() * 2).put(in.flip());
                    }
                    if (channel.read(in) < 0) {
                        throw new IOException(in.position() == 0 ? "closed by the server before an answer"
                                : "closed by the server mid-answer");
                    }
                    int status = complete();
                    if (status > 0) {
                        record(System.nanoTime() - sentAt, status < 400 ? null : "status " + status);
                        if (closing) {
                            // "Connection: close" (nginx after keepalive_requests answers on one connection): the
                            // answer counts, and the next request goes on a new connection, as a client's would
                            channel.close();
                            if (!stopping) {
                                open();
                            }
                        } else if (!stopping) {
                            send();
                        }
                    }
                }
            }

            /** The status of the answer once it is complete in {@code in}; 0 while more is to come. */
            private int complete() throws IOException {
                byte[] data = in.array();
                int length = in.position();
                int end = headerEnd(data, length);
                if (end < 0) {
                    return 0;
                }
                String head = new String(data, 0, end, StandardCharsets.ISO_8859_1);
                int status = Integer.parseInt(head.substring(9, 12));
                String lower = head.toLowerCase(java.util.Locale.ROOT);
                closing = lower.contains("\r\nconnection: close");
                int at = lower.indexOf("\r\ncontent-length:");
                if (at >= 0) {
                    int eol = lower.indexOf("\r\n", at + 2);
                    long body = Long.parseLong(lower.substring(at + 17, eol < 0 ? lower.length() : eol).trim());
                    return length >= end + 4 + body ? status : 0;
                }
                if (lower.contains("\r\ntransfer-encoding: chunked")) {
                    // Ends with the zero-size chunk; a rough test, good enough for the small bodies sent here.
                    String tail = new String(data, Math.max(end, length - 7), Math.min(7, length - end),
                            StandardCharsets.ISO_8859_1);
                    return tail.endsWith("0\r\n\r\n") ? status : 0;
                }
                throw new IOException("an answer without Content-Length");
            }

            void fail(String why) {
                record(System.nanoTime() - sentAt, why);
                try {
                    channel.close();
                    if (!stopping) {
                        open();
                    }
                } catch (IOException e) {
                    // the next select finds nothing for it; the load goes on with one connection fewer
                }
            }
        }
    }

    private static int headerEnd(byte[] data, int length) {
        for (int i = 3; i < length; i++) {
            if (data[i] == '\n' && data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r') {
                return i - 3;
            }
        }
        return -1;
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
