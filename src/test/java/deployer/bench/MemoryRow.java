package deployer.bench;

import deployer.BenchFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Row 9: many clients send large bodies to one model of a server in a small heap ({@code -Xmx512m}, the scoring
 * memory at its default, a quarter of that): the heap's peak, what the clients were answered, and that the server
 * stayed up.
 */
final class MemoryRow {

    private static final Pattern HEAP = Pattern.compile(
            "^jvm_memory_used_bytes\\{area=\"heap\",id=\"[^\"]+\"} (\\S+)$", Pattern.MULTILINE);

    private final Options options;

    MemoryRow(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        int clients = options.quick() ? 16 : 64;
        int body = (options.quick() ? 8 : 32) << 20;
        Path work = Files.createDirectories(options.work().resolve("memory"));
        Path data = work.resolve("data");
        int port = Child.freePort();
        try (Child child = Child.deployer(options, List.of("-Xmx512m"), List.of("serve", "--port",
                Integer.toString(port), "--data", data.toString(), "--token", Api.TOKEN, "--cell-ports", "0"),
                work.resolve("server.log"))) {
            child.awaitAnswer(port, "/api/models", Api.TOKEN, 60_000);
            Api api = new Api(URI.create("http://127.0.0.1:" + port));
            Map<String, Object> d = api.deploy(BenchFixtures.counterPackage(work, "counter"));
            int cellPort = ((Number) d.get("port")).intValue();

            AtomicBoolean sending = new AtomicBoolean(true);
            AtomicLong peak = new AtomicLong();
            Thread sampler = new Thread(() -> {
                while (sending.get()) {
                    try {
                        peak.accumulateAndGet(heapUsed(api.get("/metrics")), Math::max);
                    } catch (IOException e) {
                        return; // the server went away: the row says so
                    }
                    Load.sleep(50);
                }
            }, "bench-heap-sampler");
            sampler.start();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<Integer>> answers = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < clients; i++) {
                answers.add(pool.submit(() -> send(cellPort, body)));
            }
            int ok = 0;
            int busy = 0;
            int other = 0;
            for (Future<Integer> answer : answers) {
                int status = answer.get(10, TimeUnit.MINUTES);
                if (status == 200) {
                    ok++;
                } else if (status == 503) {
                    busy++;
                } else {
                    other++;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            pool.shutdown();
            sending.set(false);
            sampler.join();
            boolean up = child.alive() && api.get("/api/models").contains("READY");
            table.add(new Table.Row(9, clients + " clients each send a " + Table.mib(body) + " body to one model,"
                    + " server at -Xmx512m", "heap peak " + Table.mib(peak.get()) + "; " + ok + " × 200, " + busy
                    + " × 503, " + other + " other, in " + String.format("%.1f s", seconds),
                    "the heap's ceiling: 512 MiB; the scoring memory: 128 MiB", "server " + (up ? "up" : "DOWN"),
                    "stays up, no OOM", Table.met(up && other == 0 && ok > 0)));
        }
    }

    private static long heapUsed(String metrics) {
        Matcher m = HEAP.matcher(metrics);
        long sum = 0;
        while (m.find()) {
            sum += (long) Double.parseDouble(m.group(1));
        }
        return sum;
    }

    /** One body, a MiB at a time until the server answers (a refusal comes as the headers arrive); the status. */
    private static int send(int port, int length) throws IOException {
        byte[] piece = new byte[1 << 20];
        java.util.Arrays.fill(piece, (byte) ' ');
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(120_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(("POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            try {
                for (int i = 0; i < 20 && in.available() == 0; i++) {
                    Load.sleep(10);
                }
                for (int sent = 0; sent < length && in.available() == 0; sent += piece.length) {
                    out.write(piece, 0, Math.min(piece.length, length - sent));
                }
                out.flush();
            } catch (IOException closed) {
                // answered and closed while we wrote; the answer may still be readable
            }
            try {
                byte[] head = new byte[12];
                int n = in.readNBytes(head, 0, 12);
                return n == 12 ? Integer.parseInt(new String(head, 9, 3, StandardCharsets.US_ASCII)) : -1;
            } catch (IOException gone) {
                return -1;
            }
        }
    }
}
