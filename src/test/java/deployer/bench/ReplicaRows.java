package deployer.bench;

import deployer.testing.Packages;
import deployer.testing.Postgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Rows 21 and 22 (issue 18): replicas on one PostgreSQL (DESIGN 1.12), each a real server process with its own data
 * folder. Row 21: an upload through one replica until every replica answers the new model, for one, two and three
 * replicas. Row 22: the gateway path through nginx round-robin over two replicas, against one server direct (and
 * nginx over that one server alone, which separates nginx's own cost from what the second replica adds). Both rows
 * are skipped, saying why, where PostgreSQL (or, for row 22, nginx) is not installed.
 */
final class ReplicaRows {

    static final List<Integer> ROWS = List.of(21, 22);
    private static final String DEPLOY_WHAT = "upload → READY on every replica (echo model compiled at deploy time,"
            + " replicas on one PostgreSQL, each a server process)";
    private static final String GATEWAY_WHAT = "gateway through nginx round-robin over two replicas (echo model, "
            + Options.CONNECTIONS + " connections)";
    private static final String GATEWAY_TARGET = "> 1.5× on a box with the cores for it (reported here)";

    private final Options options;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ReplicaRows(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Optional<String> noPostgres = Postgres.unavailable();
        if (options.runs(21)) {
            if (noPostgres.isPresent()) {
                table.add(skipped(21, DEPLOY_WHAT, noPostgres.get(), "-"));
            } else {
                deployToAll(table);
            }
        }
        if (options.runs(22)) {
            Optional<Path> nginx = nginx();
            if (noPostgres.isPresent() || nginx.isEmpty()) {
                table.add(skipped(22, GATEWAY_WHAT, noPostgres.orElse("no nginx (looked for /usr/sbin/nginx and"
                        + " nginx on PATH; apt-get install -y nginx)"), GATEWAY_TARGET));
            } else {
                gateway(table, nginx.get());
            }
        }
    }

    private static Table.Row skipped(int row, String what, String why, String target) {
        return new Table.Row(row, what, "skipped: " + why.replace('|', '/'), "-", "-", target, "-");
    }

    // ---- row 21 -------------------------------------------------------------------------------------------------

    private void deployToAll(Table table) throws Exception {
        int deploys = options.quick() ? 1 : 5;
        List<Replicas> sets = new ArrayList<>();
        try {
            // One, two and three replicas up at once, each set on its own database, and their deploys interleaved
            // round by round: on a busy box the three sides see the same moments.
            for (int count = 1; count <= 3; count++) {
                sets.add(Replicas.start(options, options.work().resolve("replicas-" + count), count));
            }
            for (Replicas set : sets) {
                // One deploy first, not measured: the servers' first compile and first cell warm their JVMs.
                deployAndWait(set, "warm");
            }
            List<List<Double>> all = new ArrayList<>();
            List<List<Double>> first = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                all.add(new ArrayList<>());
                first.add(new ArrayList<>());
            }
            for (int k = 0; k < deploys; k++) {
                for (int j = 0; j < 3; j++) {
                    int i = (k + j) % 3;
                    double[] t = deployAndWait(sets.get(i), "m" + k);
                    first.get(i).add(t[0]);
                    all.get(i).add(t[1]);
                }
            }
            double[] medians = new double[4];
            List<String> measured = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int count = i + 1;
                medians[count] = median(all.get(i));
                measured.add(count + " replica" + (count == 1 ? "" : "s") + ": " + Table.millis(medians[count])
                        + (count == 1 ? "" : " (the deciding one READY at " + Table.millis(median(first.get(i)))
                        + "; " + followers(sets.get(i), "m" + (deploys - 1)) + ")"));
            }
            table.add(new Table.Row(21, DEPLOY_WHAT + ", median of " + deploys + " after a warm-up deploy, the three"
                    + " sets up at once and their deploys interleaved",
                    String.join("; ", measured.subList(1, 3)), measured.get(0),
                    "2: " + Table.ratio(medians[2] / medians[1]) + ", 3: " + Table.ratio(medians[3] / medians[1]),
                    "every replica within 5 s of the upload (DESIGN 1.12)",
                    Table.met(medians[2] < 5_000 && medians[3] < 5_000)));
        } finally {
            sets.forEach(Replicas::close);
        }
    }

    /**
     * Uploads through the first replica and waits until every replica answers the model: returns the milliseconds
     * to the deciding replica's READY and to the last replica's first answer.
     */
    private double[] deployAndWait(Replicas replicas, String model) throws Exception {
        byte[] archive = Packages.zip(Packages.echoPackage(model));
        long start = System.nanoTime();
        new Api(replicas.uri(0)).deploy(archive);
        double first = (System.nanoTime() - start) / 1e6;
        for (int i = 0; i < replicas.size(); i++) {
            awaitAnswer(replicas.uri(i).resolve("/models/" + model + "/predict"), 120_000);
        }
        return new double[] {first, (System.nanoTime() - start) / 1e6};
    }

    /**
     * Where a follower's time went for one upload, from the audit log: each follower's fetched, compiled, loaded and
     * READY events, in ms after the deciding replica's READY (which is when the change is recorded).
     */
    private static String followers(Replicas replicas, String model) throws IOException {
        List<Object> events = new Api(replicas.uri(0)).list("/api/events?model=" + model + "&limit=200");
        java.util.Map<String, java.util.Map<String, java.time.Instant>> at = new java.util.TreeMap<>();
        for (Object o : events) {
            java.util.Map<?, ?> e = (java.util.Map<?, ?>) o;
            Object node = e.get("node");
            if (node != null) {
                // Newest first: the last put is the first such event of the node.
                at.computeIfAbsent(node.toString(), n -> new java.util.HashMap<>())
                        .put(e.get("kind").toString(), java.time.Instant.parse(e.get("time").toString()));
            }
        }
        java.time.Instant decided = at.getOrDefault("n0", java.util.Map.of()).get("ready");
        if (decided == null) {
            return "no events";
        }
        List<String> parts = new ArrayList<>();
        for (var node : at.entrySet()) {
            if (node.getKey().equals("n0")) {
                continue;
            }
            StringBuilder text = new StringBuilder(node.getKey()).append(':');
            for (String kind : List.of("fetched", "prepared", "compiled", "loaded", "ready")) {
                java.time.Instant t = node.getValue().get(kind);
                if (t != null) {
                    text.append(' ').append(kind.equals("ready") ? "READY" : kind).append(" +")
                            .append(java.time.Duration.between(decided, t).toMillis());
                }
            }
            parts.add(text.append(" ms").toString());
        }
        return "after n0's READY, " + String.join(", ", parts);
    }

    private void awaitAnswer(URI predict, long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(predict).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"x\": 1}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not answering yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            Load.sleep(10);
        }
        throw new IOException(predict + " did not answer within " + timeoutMs + " ms");
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    // ---- row 22 -------------------------------------------------------------------------------------------------

    private void gateway(Table table, Path nginxBinary) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("gateway"));
        try (Replicas replicas = Replicas.start(options, work, 2)) {
            deployAndWait(replicas, "echo");
            int both = Child.freePort();
            int one = Child.freePort();
            try (Nginx nginx = Nginx.start(nginxBinary, work.resolve("nginx"), both,
                    List.of(replicas.port(0), replicas.port(1)), one, List.of(replicas.port(0)))) {
                byte[] body = "{\"features\": [5.1, 3.5, 1.4, 0.2]}".getBytes(StandardCharsets.UTF_8);
                int n = options.connections();
                String path = "/models/echo/predict";
                Load direct = new Load(replicas.port(0), path, body, n);
                Load overTwo = new Load(both, path, body, n);
                Load overOne = new Load(one, path, body, n);
                direct.run(options.warmupMs(), 0);
                overTwo.run(options.warmupMs(), 0);
                overOne.run(options.warmupMs(), 0);
                List<Load.Result> directRuns = new ArrayList<>();
                List<Load.Result> twoRuns = new ArrayList<>();
                List<Load.Result> oneRuns = new ArrayList<>();
                for (int round = 0; round < options.rounds(); round++) {
                    for (int k = 0; k < 3; k++) {
                        switch ((round + k) % 3) {
                            case 0 -> directRuns.add(direct.run(200, options.measureMs()));
                            case 1 -> twoRuns.add(overTwo.run(200, options.measureMs()));
                            default -> oneRuns.add(overOne.run(200, options.measureMs()));
                        }
                    }
                }
                Load.Result d = Load.merge(directRuns);
                Load.Result two = Load.merge(twoRuns);
                Load.Result single = Load.merge(oneRuns);
                double ratio = two.throughput() / d.throughput();
                double scale = two.throughput() / single.throughput();
                int cores = Runtime.getRuntime().availableProcessors();
                table.add(new Table.Row(22, GATEWAY_WHAT + ", nginx " + nginx.workers() + " workers, " + cores
                        + " cores shared by load, nginx and both servers",
                        "nginx → 2 replicas: " + two + "; nginx → 1: " + single,
                        "one server direct: " + d,
                        Table.ratio(ratio) + " of direct; nginx over 2 vs over 1: " + Table.ratio(scale),
                        GATEWAY_TARGET,
                        cores >= 8 ? Table.met(ratio > 1.5 && two.failed() == 0) : "-"));
            }
        }
    }

    /** Where nginx is: Debian's path, else on PATH. */
    static Optional<Path> nginx() {
        Path debian = Path.of("/usr/sbin/nginx");
        if (Files.isExecutable(debian)) {
            return Optional.of(debian);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, "nginx");
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Replica server processes on one fresh PostgreSQL database, nodes n0, n1 … */
    static final class Replicas implements AutoCloseable {
        private final List<Child> children = new ArrayList<>();
        private final List<Integer> ports = new ArrayList<>();

        static Replicas start(Options options, Path work, int count) throws IOException {
            String url = Postgres.server().newDatabase();
            awaitDatabase(url);
            Replicas replicas = new Replicas();
            try {
                for (int i = 0; i < count; i++) {
                    Path data = work.resolve("n" + i).resolve("data");
                    Path log = work.resolve("n" + i + ".log");
                    // A server gives its database 3 s at start; on a loaded box that can pass: it is tried again.
                    for (int attempt = 1; ; attempt++) {
                        Child child = Child.deployer(options, List.of(), List.of("serve", "--port", "0", "--data",
                                data.toString(), "--token", Api.TOKEN, "--cell-ports", "0", "--db", url, "--node",
                                "n" + i), log);
                        replicas.children.add(child);
                        try {
                            replicas.ports.add(child.awaitPortFile(data.resolve("server.port"), 120_000));
                            break;
                        } catch (IOException e) {
                            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
                            String end = String.join(" / ", lines.subList(Math.max(0, lines.size() - 3),
                                    lines.size()));
                            if (attempt == 3 || !end.contains("could not open the database")) {
                                throw new IOException("replica n" + i + ": " + e.getMessage() + "; its log ends: "
                                        + end, e);
                            }
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                replicas.close();
                throw e;
            }
            return replicas;
        }

        /**
         * Connects once before any server does: a server gives its database 3 s at start, which a cluster just made
         * on a loaded box can take for its first connection.
         */
        private static void awaitDatabase(String url) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(url)) {
                    return;
                } catch (java.sql.SQLException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("the benchmark's database does not answer: " + e.getMessage(), e);
                    }
                    Load.sleep(200);
                }
            }
        }

        int size() {
            return ports.size();
        }

        int port(int i) {
            return ports.get(i);
        }

        URI uri(int i) {
            return URI.create("http://127.0.0.1:" + ports.get(i));
        }

        @Override
        public void close() {
            for (Child child : children) {
                try {
                    child.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * nginx as a child process with a generated configuration in {@code dir} ({@code -p dir}, {@code daemon off}): on
     * port {@code both} round-robin over {@code upstreams}, on port {@code one} over {@code single}. The same
     * configuration as the README's, but for the ports.
     */
    static final class Nginx implements AutoCloseable {
        private final Process process;
        private final int workers;

        private Nginx(Process process, int workers) {
            this.process = process;
            this.workers = workers;
        }

        static Nginx start(Path binary, Path dir, int both, List<Integer> upstreams, int one, List<Integer> single)
                throws IOException {
            Files.createDirectories(dir.resolve("logs"));
            int workers = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
            String conf = config(workers, both, upstreams, one, single);
            Path file = dir.resolve("nginx.conf");
            Files.writeString(file, conf, StandardCharsets.UTF_8);
            Process process = new ProcessBuilder(binary.toString(), "-p", dir.toString(), "-c", file.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(
                            dir.resolve("logs").resolve("stdout.log").toFile())).start();
            Nginx nginx = new Nginx(process, workers);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(listening(both) && listening(one))) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    nginx.close();
                    throw new IOException("nginx did not start (exit " + (process.isAlive() ? "-" : process.exitValue())
                            + "); see " + dir.resolve("logs"));
                }
                Load.sleep(20);
            }
            return nginx;
        }

        /**
         * The README's configuration ({@code "Replicas on PostgreSQL"}: round robin, kept connections, the scoring
         * path passed on at a refusal or a 503), its ports filled in, plus a server over one replica alone.
         */
        static String config(int workers, int both, List<Integer> upstreams, int one, List<Integer> single) {
            StringBuilder two = new StringBuilder();
            upstreams.forEach(p -> two.append("        server 127.0.0.1:").append(p).append(";\n"));
            StringBuilder alone = new StringBuilder();
            single.forEach(p -> alone.append("        server 127.0.0.1:").append(p).append(";\n"));
            return String.format(Locale.ROOT, """
                    worker_processes %d;
                    daemon off;
                    pid nginx.pid;
                    error_log logs/error.log warn;
                    events { worker_connections 4096; }
                    http {
                        access_log off;
                        client_max_body_size 2g;
                        proxy_request_buffering off;
                        upstream deployer {
                    %s        keepalive 128;
                        }
                        upstream deployer_one {
                    %s        keepalive 128;
                        }
                        server {
                            listen 127.0.0.1:%d;
                            location / {
                                proxy_pass http://deployer;
                                proxy_http_version 1.1;
                                proxy_set_header Connection "";
                                proxy_set_header Host $host;
                            }
                            location ~ ^/(models|v2)/ {
                                proxy_pass http://deployer;
                                proxy_http_version 1.1;
                                proxy_set_header Connection "";
                                proxy_set_header Host $host;
                                proxy_next_upstream error http_503 non_idempotent;
                            }
                        }
                        server {
                            listen 127.0.0.1:%d;
                            location / {
                                proxy_pass http://deployer_one;
                                proxy_http_version 1.1;
                                proxy_set_header Connection "";
                            }
                        }
                    }
                    """, workers, two, alone, both, one);
        }

        int workers() {
            return workers;
        }

        private static boolean listening(int port) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
