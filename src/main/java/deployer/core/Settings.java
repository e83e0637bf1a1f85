package deployer.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's settings, validated once: every check names the flag it belongs to. Built by {@code deployer.Main} from flags
 * and {@code DEPLOYER_*} variables, or directly by tests.
 */
public record Settings(String host, int port, Path data, String cellHost, PortRange cellPorts,
                       Optional<String> token, long maxUploadMb, long pingIntervalMs, int pingFailures,
                       long scoringMemoryMb, int keepVersions, Security security, long payloadLogMb,
                       CellProcess cellProcess, Db db) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final String DEFAULT_DATA = "./deployer-data";
    public static final String DEFAULT_CELL_PORTS = "9100-9199";
    public static final long DEFAULT_MAX_UPLOAD_MB = 2048;
    public static final long DEFAULT_PING_INTERVAL_MS = 10_000;
    public static final int DEFAULT_PING_FAILURES = 3;
    /** {@code --scoring-memory-mb}: 0 means a quarter of the heap's ceiling. */
    public static final long DEFAULT_SCORING_MEMORY_MB = 0;
    /** {@code --keep-versions}: 0 keeps every version; N keeps the newest N, deleting older ones that do not serve. */
    public static final int DEFAULT_KEEP_VERSIONS = 0;
    /** {@code --payload-log-mb}: the most one model's payload records (DESIGN 1.11) take on disk. */
    public static final long DEFAULT_PAYLOAD_LOG_MB = 256;

    public Settings {
        Objects.requireNonNull(host, "--host");
        Objects.requireNonNull(data, "--data");
        Objects.requireNonNull(cellHost, "--cell-host");
        Objects.requireNonNull(cellPorts, "--cell-ports");
        Objects.requireNonNull(token, "--token");
        Objects.requireNonNull(security, "security");
        cellProcess = cellProcess == null ? CellProcess.DEFAULT : cellProcess;
        Objects.requireNonNull(db, "--db");
        if (host.isBlank()) {
            throw new IllegalArgumentException("--host: must not be empty");
        }
        if (cellHost.isBlank()) {
            throw new IllegalArgumentException("--cell-host: must not be empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port: " + port + " is not a port (0-65535; 0 picks a free one)");
        }
        if (maxUploadMb < 1 || maxUploadMb > 1024 * 1024) {
            throw new IllegalArgumentException("--max-upload-mb: " + maxUploadMb + " is not within 1-1048576");
        }
        if (pingIntervalMs < 100) {
            throw new IllegalArgumentException("--ping-interval-ms: " + pingIntervalMs + " is below 100");
        }
        if (pingFailures < 1 || pingFailures > 1000) {
            throw new IllegalArgumentException("--ping-failures: " + pingFailures + " is not within 1-1000");
        }
        if (scoringMemoryMb < 0 || scoringMemoryMb > 1024 * 1024) {
            throw new IllegalArgumentException("--scoring-memory-mb: " + scoringMemoryMb
                    + " is not within 0-1048576 (0 means a quarter of the heap)");
        }
        if (keepVersions < 0 || keepVersions > 1_000_000) {
            throw new IllegalArgumentException("--keep-versions: " + keepVersions
                    + " is not within 0-1000000 (0 keeps every version)");
        }
        if (payloadLogMb < 1 || payloadLogMb > 1_048_576) {
            throw new IllegalArgumentException("--payload-log-mb: " + payloadLogMb + " is not within 1-1048576");
        }
        token.ifPresent(t -> {
            if (t.length() < 16 || !t.chars().allMatch(c -> c > 32 && c < 127)) {
                throw new IllegalArgumentException(
                        "--token: must be at least 16 printable characters without spaces");
            }
        });
    }

    /** The settings that came first; the later ones at their defaults. */
    public Settings(String host, int port, Path data, String cellHost, PortRange cellPorts, Optional<String> token,
                    long maxUploadMb, long pingIntervalMs, int pingFailures) {
        this(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                DEFAULT_SCORING_MEMORY_MB, DEFAULT_KEEP_VERSIONS, Security.NONE, DEFAULT_PAYLOAD_LOG_MB, CellProcess.DEFAULT,
                Db.EMBEDDED);
    }

    /**
     * The bytes of scoring bodies the server holds at once, across all models ({@code --scoring-memory-mb}; by
     * default a quarter of the heap's ceiling).
     */
    public long scoringMemoryBytes() {
        return scoringMemoryMb > 0 ? scoringMemoryMb << 20 : Runtime.getRuntime().maxMemory() / 4;
    }

    /** Settings with every default, the data folder and ports aside: what tests start from. */
    public static Settings defaults(Path data) {
        return new Settings(DEFAULT_HOST, DEFAULT_PORT, data, DEFAULT_HOST, PortRange.parse(DEFAULT_CELL_PORTS),
                Optional.empty(), DEFAULT_MAX_UPLOAD_MB, DEFAULT_PING_INTERVAL_MS, DEFAULT_PING_FAILURES,
                DEFAULT_SCORING_MEMORY_MB, DEFAULT_KEEP_VERSIONS, Security.NONE, DEFAULT_PAYLOAD_LOG_MB, CellProcess.DEFAULT,
                Db.EMBEDDED);
    }

    public Settings withPort(int newPort) {
        return new Settings(host, newPort, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withHost(String newHost) {
        return new Settings(newHost, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withCellHost(String newCellHost) {
        return new Settings(host, port, data, newCellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withCellPorts(PortRange range) {
        return new Settings(host, port, data, cellHost, range, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withToken(String newToken) {
        return new Settings(host, port, data, cellHost, cellPorts, Optional.of(newToken), maxUploadMb, pingIntervalMs,
                pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withMaxUploadMb(long mb) {
        return new Settings(host, port, data, cellHost, cellPorts, token, mb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withPingIntervalMs(long ms) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, ms, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withPingFailures(int failures) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, failures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withSecurity(Security newSecurity) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, newSecurity, payloadLogMb, cellProcess, db);
    }

    public Settings withScoringMemoryMb(long mb) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                mb, keepVersions, security, payloadLogMb, cellProcess, db);
    }

    public Settings withPayloadLogMb(long mb) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, mb, cellProcess, db);
    }

    /** The same settings as the twelve-argument form had, payload records at their default cap. */
    public Settings(String host, int port, Path data, String cellHost, PortRange cellPorts, Optional<String> token,
                    long maxUploadMb, long pingIntervalMs, int pingFailures, long scoringMemoryMb, int keepVersions,
                    Security security) {
        this(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures, scoringMemoryMb,
                keepVersions, security, DEFAULT_PAYLOAD_LOG_MB, CellProcess.DEFAULT, Db.EMBEDDED);
    }

    public Settings withKeepVersions(int keep) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keep, security, payloadLogMb, cellProcess, db);
    }

    public Settings withDb(Db newDb) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, cellProcess, newDb);
    }

    /**
     * Where the records live ({@code --db}, {@code DEPLOYER_DB}): empty for the embedded H2 under
     * {@code <data>/db}, else a {@code jdbc:postgresql://} URL, with its credentials in the URL or in
     * {@code --db-user}/{@code --db-password} ({@code DEPLOYER_DB_USER}/{@code DEPLOYER_DB_PASSWORD}).
     */
    public record Db(Optional<String> url, Optional<String> user, Optional<String> password, Optional<String> node) {

        public static final String POSTGRESQL_PREFIX = "jdbc:postgresql:";
        public static final Db EMBEDDED = new Db(Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
        private static final Pattern NODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}");

        public Db {
            Objects.requireNonNull(url, "--db");
            Objects.requireNonNull(user, "--db-user");
            Objects.requireNonNull(password, "--db-password");
            Objects.requireNonNull(node, "--node");
            node.ifPresent(n -> {
                if (!NODE.matcher(n).matches()) {
                    throw new IllegalArgumentException("--node: '" + n + "' is not a node name (1-200 letters,"
                            + " digits and . _ : / @ -, starting with a letter or digit)");
                }
            });
            url.ifPresent(u -> {
                if (!u.startsWith(POSTGRESQL_PREFIX)) {
                    throw new IllegalArgumentException("--db: " + u.replaceAll("password=[^&]*", "password=***")
                            + " is not a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DATABASE); leave --db out"
                            + " for the embedded database under --data");
                }
            });
            if (url.isEmpty() && (user.isPresent() || password.isPresent())) {
                throw new IllegalArgumentException((user.isPresent() ? "--db-user" : "--db-password")
                        + ": there is no --db (DEPLOYER_DB) to log in to");
            }
        }

        /** PostgreSQL at {@code url}; user and password from the URL. */
        public static Db postgresql(String url) {
            return new Db(Optional.of(url), Optional.empty(), Optional.empty(), Optional.empty());
        }

        public Db withNode(String name) {
            return new Db(url, user, password, Optional.of(name));
        }

        /** This server's name among the replicas: {@code --node}, else the host name and the data folder. */
        public String nodeName(Path data) {
            return node.orElseGet(() -> {
                String host;
                try {
                    host = java.net.InetAddress.getLocalHost().getHostName();
                } catch (java.net.UnknownHostException e) {
                    host = "localhost";
                }
                String name = host + ":" + data.toAbsolutePath().normalize();
                return name.length() > 200 ? name.substring(name.length() - 200) : name;
            });
        }

        /** Whether the records are in the embedded H2 database. */
        public boolean embedded() {
            return url.isEmpty();
        }

        /** The URL without its password, for logs and messages. */
        public String shown() {
            return url.map(u -> u.replaceAll("password=[^&]*", "password=***")).orElse("embedded H2");
        }

        @Override
        public String toString() {
            return "Db[" + shown() + (user.isPresent() ? ", user " + user.get() : "") + "]";
        }
    }

    public Settings withCellProcess(CellProcess process) {
        return new Settings(host, port, data, cellHost, cellPorts, token, maxUploadMb, pingIntervalMs, pingFailures,
                scoringMemoryMb, keepVersions, security, payloadLogMb, process, db);
    }

    /**
     * The JVM that runs the cells of {@code "isolation": "process"} models (DESIGN 1.12): {@code --cell-java}, the
     * {@code java} to launch (default: the one running the server), and {@code --cell-jvm-args}, options put before
     * the model's own {@code jvm.heap_mb} (default none).
     */
    public record CellProcess(Optional<Path> java, List<String> jvmArgs) {

        public static final CellProcess DEFAULT = new CellProcess(Optional.empty(), List.of());

        public CellProcess {
            Objects.requireNonNull(java, "--cell-java");
            jvmArgs = List.copyOf(jvmArgs);
            for (String arg : jvmArgs) {
                if (!arg.startsWith("-")) {
                    throw new IllegalArgumentException("--cell-jvm-args: " + arg + " is not a JVM option (they start"
                            + " with -, e.g. -XX:+UseSerialGC); the child's class path and main class are the"
                            + " server's own");
                }
            }
            java.ifPresent(file -> {
                if (!Files.isExecutable(file)) {
                    throw new IllegalArgumentException("--cell-java: " + file + " is not an executable file; give"
                            + " the path of a java launcher (Java 17 or later)");
                }
            });
        }

        /** Parses {@code --cell-jvm-args} as the shell would not: split on white space, no quoting. */
        public static CellProcess parse(String java, String jvmArgs) {
            Optional<Path> launcher = java == null || java.isBlank() ? Optional.empty() : Optional.of(Path.of(java));
            List<String> args = jvmArgs == null || jvmArgs.isBlank() ? List.of()
                    : List.of(jvmArgs.trim().split("\\s+"));
            return new CellProcess(launcher, args);
        }

        /** The {@code java} launcher: {@code --cell-java}, else the one running this JVM. */
        public Path launcher() {
            return java.orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java"));
        }
    }

    /**
     * What guards the ports: TLS from PEM files ({@code --tls-cert} + {@code --tls-key}) or a PKCS#12 keystore
     * ({@code --tls-keystore} [+ {@code --tls-keystore-password}]), scoring behind a token
     * ({@code --require-score-token}), and the explicit wish to serve other machines in clear text
     * ({@code --insecure-http}).
     */
    public record Security(Optional<Path> tlsCert, Optional<Path> tlsKey, Optional<Path> tlsKeystore,
                           Optional<String> tlsKeystorePassword, boolean requireScoreToken, boolean insecureHttp) {

        public static final Security NONE = new Security(Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), false, false);

        public Security {
            Objects.requireNonNull(tlsCert, "--tls-cert");
            Objects.requireNonNull(tlsKey, "--tls-key");
            Objects.requireNonNull(tlsKeystore, "--tls-keystore");
            Objects.requireNonNull(tlsKeystorePassword, "--tls-keystore-password");
            if (tlsCert.isPresent() != tlsKey.isPresent()) {
                throw new IllegalArgumentException(tlsCert.isPresent()
                        ? "--tls-cert: needs --tls-key with the certificate's private key (PEM)"
                        : "--tls-key: needs --tls-cert with the certificate chain (PEM)");
            }
            if (tlsKeystore.isPresent() && tlsCert.isPresent()) {
                throw new IllegalArgumentException("--tls-keystore: give either a PKCS#12 keystore or --tls-cert"
                        + " with --tls-key, not both");
            }
            if (tlsKeystorePassword.isPresent() && tlsKeystore.isEmpty()) {
                throw new IllegalArgumentException("--tls-keystore-password: there is no --tls-keystore to open");
            }
            if (tlsCert.isPresent() && insecureHttp) {
                throw new IllegalArgumentException("--insecure-http: the ports serve TLS (--tls-cert); drop one of"
                        + " the two");
            }
            if (tlsKeystore.isPresent() && insecureHttp) {
                throw new IllegalArgumentException("--insecure-http: the ports serve TLS (--tls-keystore); drop one"
                        + " of the two");
            }
        }

        /** Whether every port serves TLS. */
        public boolean tls() {
            return tlsCert.isPresent() || tlsKeystore.isPresent();
        }

        public Security withPem(Path cert, Path key) {
            return new Security(Optional.of(cert), Optional.of(key), Optional.empty(), Optional.empty(),
                    requireScoreToken, insecureHttp);
        }

        public Security withKeystore(Path keystore, String password) {
            return new Security(Optional.empty(), Optional.empty(), Optional.of(keystore),
                    Optional.ofNullable(password), requireScoreToken, insecureHttp);
        }

        public Security withRequireScoreToken(boolean require) {
            return new Security(tlsCert, tlsKey, tlsKeystore, tlsKeystorePassword, require, insecureHttp);
        }

        public Security withInsecureHttp(boolean insecure) {
            return new Security(tlsCert, tlsKey, tlsKeystore, tlsKeystorePassword, requireScoreToken, insecure);
        }
    }

    /**
     * The ports cells may bind: {@code 9100-9199}, one port {@code 9100}, or {@code 0} for any free port (each model
     * still keeps the port it got, as long as it stays free).
     */
    public record PortRange(int first, int last) {

        private static final Pattern RANGE = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?");

        public PortRange {
            boolean any = first == 0 && last == 0;
            if (!any && (first < 1 || last > 65535 || first > last)) {
                throw new IllegalArgumentException("--cell-ports: " + first + "-" + last
                        + " is not a range of ports (e.g. 9100-9199, or 0 for any free port)");
            }
        }

        public static PortRange parse(String text) {
            Matcher m = RANGE.matcher(text.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("--cell-ports: " + text
                        + " is not a range of ports (e.g. 9100-9199, or 0 for any free port)");
            }
            int first = Integer.parseInt(m.group(1));
            int last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
            return new PortRange(first, last);
        }

        public static PortRange any() {
            return new PortRange(0, 0);
        }

        public boolean isAny() {
            return first == 0;
        }

        public boolean contains(int port) {
            return isAny() ? port > 0 : port >= first && port <= last;
        }

        @Override
        public String toString() {
            return isAny() ? "0" : first == last ? String.valueOf(first) : first + "-" + last;
        }
    }
}
