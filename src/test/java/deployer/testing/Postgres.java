package deployer.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for the tests that need one: the one {@code .ci/run} started (its JDBC URL in
 * {@code DEPLOYER_TEST_PG_URL}), or else a throw-away cluster this JVM makes itself with Debian's {@code initdb} and
 * {@code pg_ctl} in a temporary folder, on a free loopback port, and stops when the JVM ends. PostgreSQL refuses to
 * run as root, so as root the cluster runs as the {@code postgres} user the Debian package creates.
 *
 * <p>Each {@link #newDatabase()} is a database of its own, so tests never see each other's rows. Without PostgreSQL
 * on the machine, {@link #available()} says why and the tests that need it are skipped with that reason.
 */
public final class Postgres {

    private static final String URL_VARIABLE = "DEPLOYER_TEST_PG_URL";
    private static volatile Postgres shared;

    private final String adminUrl;
    private final String user;
    private final String password;

    private Postgres(String adminUrl, String user, String password) {
        this.adminUrl = adminUrl;
        this.user = user;
        this.password = password;
    }

    /** Why PostgreSQL cannot be had here, or empty when it can. */
    public static Optional<String> unavailable() {
        if (System.getenv(URL_VARIABLE) != null) {
            return Optional.empty();
        }
        return binaries().isPresent() ? Optional.empty()
                : Optional.of("no PostgreSQL: set " + URL_VARIABLE + " or install Debian's postgresql package");
    }

    /** The server of this JVM, started on first use. */
    public static synchronized Postgres server() {
        if (shared == null) {
            String url = System.getenv(URL_VARIABLE);
            shared = url != null ? new Postgres(url, System.getenv().getOrDefault("DEPLOYER_TEST_PG_USER",
                    "postgres"), System.getenv().getOrDefault("DEPLOYER_TEST_PG_PASSWORD", "")) : startCluster();
        }
        return shared;
    }

    /** A fresh, empty database: its JDBC URL, with the user and password as URL parameters. */
    public String newDatabase() {
        String name = "t" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        try (Connection c = DriverManager.getConnection(adminUrl, user, password);
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("could not create a test database on " + adminUrl + ": "
                    + e.getMessage(), e);
        }
        String base = adminUrl.substring(0, adminUrl.lastIndexOf('/') + 1);
        return base + name + "?user=" + user + (password.isEmpty() ? "" : "&password=" + password);
    }

    public String user() {
        return user;
    }

    private static Optional<Path> binaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparing(Path::toString));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * A cluster of the test's own, which it may stop and start again (a database outage) without touching the
     * shared one; on the same port each time. Needs the PostgreSQL binaries on this machine.
     */
    public static final class Cluster implements AutoCloseable {
        private final Path bin;
        private final Path dir;
        private final boolean root;
        private final int port;

        private Cluster(Path bin, Path dir, boolean root, int port) {
            this.bin = bin;
            this.dir = dir;
            this.root = root;
            this.port = port;
        }

        /** Why no cluster of its own can be made here, or empty when it can. */
        public static Optional<String> unavailable() {
            return binaries().isPresent() ? Optional.empty()
                    : Optional.of("no PostgreSQL binaries: install Debian's postgresql package");
        }

        public static Cluster start() {
            Path bin = binaries().orElseThrow(() -> new IllegalStateException(unavailable().orElse("")));
            try {
                Path dir = Files.createTempDirectory("deployer-pg-own-");
                boolean root = "root".equals(System.getProperty("user.name"));
                if (root) {
                    run(List.of("chown", "postgres:postgres", dir.toString()));
                }
                run(asUser(root, List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(),
                        "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")));
                Cluster cluster = new Cluster(bin, dir, root, freePort());
                cluster.up();
                return cluster;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The JDBC URL of its {@code postgres} database, user in the URL. */
        public String url() {
            return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
        }

        public void up() {
            run(asUser(root, List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-w",
                    "-t", "60", "-l", dir.resolve("log").toString(), "-o", "-p " + port + " -k " + dir
                            + " -c listen_addresses=127.0.0.1 -c fsync=off", "start")));
        }

        /** Stops the server at once ({@code -m immediate}): open connections break, as when a database host dies. */
        public void down() {
            run(asUser(root, List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m",
                    "immediate", "-w", "stop")));
        }

        @Override
        public void close() {
            try {
                down();
            } catch (RuntimeException alreadyDown) {
                // stopped by the test
            }
        }
    }

    private static Postgres startCluster() {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException(unavailable().orElse("no PostgreSQL")));
        try {
            Path dir = Files.createTempDirectory("deployer-pg-");
            boolean root = "root".equals(System.getProperty("user.name"));
            if (root) {
                run(List.of("chown", "postgres:postgres", dir.toString()));
            }
            Path data = dir.resolve("data");
            int port = freePort();
            run(asUser(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                    "-A", "trust", "-E", "UTF8", "--no-sync")));
            run(asUser(root, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60",
                    "-l", dir.resolve("log").toString(), "-o",
                    "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
                            + " -c max_connections=200", "start")));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    run(asUser(root, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast",
                            "-w", "stop")));
                } catch (RuntimeException e) {
                    System.err.println("stopping the test PostgreSQL failed: " + e.getMessage());
                }
            }, "test-postgres-stop"));
            return new Postgres("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> asUser(boolean root, List<String> command) {
        if (!root) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    private static void run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
