package deployer.bench;

import deployer.BenchFixtures;
import deployer.Deployer;
import deployer.core.Settings;
import deployer.testing.Certificates;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Row 10: scoring on a cell's port over TLS (an EC P-256 certificate made by keytool, as Let's Encrypt issues them
 * by default) against the same model on plain HTTP, two deployers in this JVM, side by side, round after round.
 * Both sides use the same generator: {@code connections} keep-alive connections, one blocking thread each (the
 * selector generator of rows 1-3 speaks no TLS), so the ratio compares the transports and nothing else.
 */
final class TlsRow {

    private static final String MODEL = "trivial";
    private static final byte[] BODY = BenchFixtures.TRIVIAL_REQUEST.getBytes(StandardCharsets.UTF_8);

    private final Options options;

    TlsRow(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("tls"));
        byte[] archive = BenchFixtures.trivialPackage(work, MODEL);
        Certificates.Made cert = Certificates.make(work.resolve("certs"), "bench", "EC");
        SSLContext trust = cert.trusting();
        Settings plainSettings = Bench.settings(work.resolve("plain"));
        Settings tlsSettings = Bench.settings(work.resolve("tls"))
                .withSecurity(Settings.Security.NONE.withPem(cert.certPem(), cert.keyPem()));
        try (Deployer plain = Deployer.start(plainSettings); Deployer tls = Deployer.start(tlsSettings)) {
            int plainPort = ((Number) new Api(plain.uri()).deploy(archive).get("port")).intValue();
            int tlsPort = ((Number) new Api(tls.uri(), trust).deploy(archive).get("port")).intValue();
            int n = options.connections();
            Blocking onPlain = new Blocking(plainPort, null, n);
            Blocking onTls = new Blocking(tlsPort, trust, n);
            onPlain.run(options.warmupMs(), 0);
            onTls.run(options.warmupMs(), 0);
            List<Load.Result> plainResults = new ArrayList<>();
            List<Load.Result> tlsResults = new ArrayList<>();
            List<Double> plainCpu = new ArrayList<>();
            List<Double> tlsCpu = new ArrayList<>();
            for (int round = 0; round < options.rounds(); round++) {
                plainResults.add(onPlain.run(500, options.measureMs()));
                plainCpu.add(onPlain.lastServerCpuPerRequest);
                tlsResults.add(onTls.run(500, options.measureMs()));
                tlsCpu.add(onTls.lastServerCpuPerRequest);
            }
            Load.Result clear = Load.merge(plainResults);
            Load.Result secure = Load.merge(tlsResults);
            double ratio = secure.throughput() / clear.throughput();
            double plainUs = median(plainCpu) / 1000;
            double tlsUs = median(tlsCpu) / 1000;
            // The generator's own TLS runs on the same two cores as the server: the CPU the server spends per
            // request is what a server whose clients are elsewhere would see.
            double cpuRatio = plainUs / tlsUs;
            table.add(new Table.Row(10, "`/predict` on the cell's port over TLS (TLS 1.3, EC P-256, keep-alive), "
                    + n + " connections, one blocking thread each", secure.toString() + String.format(
                    "; server CPU %.1f µs/request", tlsUs),
                    "the same on plain HTTP, same generator: " + clear + String.format(
                    "; server CPU %.1f µs/request", plainUs),
                    "throughput " + Table.ratio(ratio) + "; server CPU per request " + Table.ratio(1 / cpuRatio)
                            + " (throughput at equal server CPU " + Table.ratio(cpuRatio) + ")",
                    "throughput ≥ 0.80×", Table.met(ratio >= 0.80 && secure.failed() == 0)));
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    /** A closed loop of keep-alive connections, plain or TLS, each on a thread of its own. */
    static final class Blocking {

        private static final java.lang.management.ThreadMXBean THREADS =
                java.lang.management.ManagementFactory.getThreadMXBean();

        private final int port;
        private final SSLContext tls;
        private final int connections;
        private final byte[] request;

        Blocking(int port, SSLContext tls, int connections) {
            this.port = port;
            this.tls = tls;
            this.connections = connections;
            String head = "POST /predict HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json"
                    + "\r\nContent-Length: " + BODY.length + "\r\n\r\n";
            byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
            this.request = Arrays.copyOf(headBytes, headBytes.length + BODY.length);
            System.arraycopy(BODY, 0, request, headBytes.length, BODY.length);
        }

        Load.Result run(long warmupMs, long measureMs) throws Exception {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong failed = new AtomicLong();
            AtomicLong clientCpu = new AtomicLong();
            long measureFrom = System.nanoTime() + warmupMs * 1_000_000;
            List<long[]> latencies = new ArrayList<>();
            int[] counts = new int[connections];
            CountDownLatch done = new CountDownLatch(connections);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                long[] mine = new long[1 << 16];
                latencies.add(mine);
                int slot = i;
                Thread t = new Thread(() -> {
                    try {
                        loop(stop, measureFrom, mine, counts, slot, failed);
                    } finally {
                        clientCpu.addAndGet(THREADS.getCurrentThreadCpuTime());
                        done.countDown();
                    }
                }, "bench-tls-load-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            long processBefore = processCpu();
            Load.sleep(warmupMs + measureMs);
            long stoppedAt = System.nanoTime();
            stop.set(true);
            done.await();
            long serverCpu = processCpu() - processBefore - clientCpu.get();
            int total = 0;
            for (int c : counts) {
                total += Math.min(c, 1 << 16);
            }
            long[] all = new long[total];
            int at = 0;
            long requests = 0;
            for (int i = 0; i < connections; i++) {
                int n = Math.min(counts[i], 1 << 16);
                System.arraycopy(latencies.get(i), 0, all, at, n);
                at += n;
                requests += counts[i];
            }
            Arrays.sort(all);
            double seconds = Math.max(1e-9, (stoppedAt - measureFrom) / 1e9);
            long served = requests + warmedUp.getAndSet(0);
            lastServerCpuPerRequest = served == 0 ? 0 : (double) serverCpu / served;
            return new Load.Result(requests, failed.get(), seconds, percentile(all, 0.50), percentile(all, 0.99),
                    all.length == 0 ? 0 : all[all.length - 1]);
        }

        /** The server's CPU (the process's, less the generator's threads') per request, in the last run, in ns. */
        double lastServerCpuPerRequest;
        /** Requests sent during the warm-up of the current run: the server's CPU was spent on them too. */
        private final AtomicLong warmedUp = new AtomicLong();

        private static long processCpu() {
            return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                    .getOperatingSystemMXBean()).getProcessCpuTime();
        }

        private void loop(AtomicBoolean stop, long measureFrom, long[] latencies, int[] counts, int slot,
                          AtomicLong failed) {
            while (!stop.get()) {
                try (Socket socket = open()) {
                    OutputStream out = socket.getOutputStream();
                    InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
                    while (!stop.get()) {
                        long sent = System.nanoTime();
                        out.write(request);
                        out.flush();
                        int status = readResponse(in);
                        long now = System.nanoTime();
                        if (sent < measureFrom) {
                            warmedUp.incrementAndGet();
                        }
                        if (sent >= measureFrom && !stop.get()) {
                            if (status >= 400) {
                                failed.incrementAndGet();
                            }
                            int n = counts[slot]++;
                            if (n < latencies.length) {
                                latencies[n] = (now - sent) / 1000;
                            }
                        }
                    }
                } catch (IOException e) {
                    if (!stop.get() && System.nanoTime() >= measureFrom) {
                        failed.incrementAndGet();
                    }
                }
            }
        }

        private Socket open() throws IOException {
            Socket socket = tls == null ? new Socket() : tls.getSocketFactory().createSocket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            if (socket instanceof SSLSocket ssl) {
                ssl.startHandshake();
            }
            return socket;
        }

        /** Reads one response with a Content-Length body (what the cell answers); returns its status. */
        private static int readResponse(InputStream in) throws IOException {
            String statusLine = line(in);
            int status = Integer.parseInt(statusLine.substring(9, 12));
            int length = 0;
            boolean chunked = false;
            for (String header = line(in); !header.isEmpty(); header = line(in)) {
                if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
                    length = Integer.parseInt(header.substring(15).trim());
                } else if (header.regionMatches(true, 0, "transfer-encoding:", 0, 18)
                        && header.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
                    chunked = true;
                }
            }
            if (chunked) {
                for (int size = Integer.parseInt(line(in).trim(), 16); size > 0;
                     size = Integer.parseInt(line(in).trim(), 16)) {
                    in.skipNBytes(size);
                    line(in);
                }
                line(in);
            } else if (length > 0) {
                in.skipNBytes(length);
            }
            return status;
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c == -1) {
                    throw new IOException("connection closed");
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }

        private static long percentile(long[] sorted, double p) {
            return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (p * sorted.length))];
        }
    }
}
