package deployer.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the records' database — the embedded H2 under the data folder, or a PostgreSQL server shared by replicas —
 * brings its schema up to date, and shuts it down cleanly.
 */
public final class Database {

    private static final Logger log = LoggerFactory.getLogger(Database.class);

    static final long CONNECTION_TIMEOUT_MS = 3_000;
    /**
     * How long a start waits for its first connection: a database server that is starting too, or a machine busy
     * enough that one connection takes longer than {@link #CONNECTION_TIMEOUT_MS}, is waited for rather than refused.
     */
    static final long START_TIMEOUT_MS = 30_000;

    private Database() {
    }

    /**
     * After a disk error H2 closes the database (and says so, on every connection, for good); a connection that saw
     * such an error leaves the pool, so the next one opens the database again — the store's recovery once the disk
     * has space again. H2's codes: 90028 I/O error, 90098 database closed, 90121 closed under the connection, 90067
     * broken connection, 90100/90101 file corrupted or wrong format, 90030 file corrupted. Not during our own
     * {@link #shutdown}, where a closed database is the point.
     */
    static final class H2Faults implements com.zaxxer.hikari.SQLExceptionOverride {
        private static final java.util.Set<Integer> FATAL = java.util.Set.of(90028, 90098, 90121, 90067, 90100,
                90101, 90030);
        private volatile boolean shuttingDown;

        @java.lang.Override
        public com.zaxxer.hikari.SQLExceptionOverride.Override adjudicate(SQLException e) {
            return !shuttingDown && FATAL.contains(e.getErrorCode())
                    ? com.zaxxer.hikari.SQLExceptionOverride.Override.MUST_EVICT
                    : com.zaxxer.hikari.SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
    }

    /**
     * Opens {@code <dir>/deployer.mv.db} through a small HikariCP pool and brings its schema up to date
     * ({@link Migrations}).
     *
     * <p>Durability, chosen on purpose: {@code WRITE_DELAY=0} makes H2 hand every commit to the operating system at
     * once, so a {@code kill -9} of the server loses no committed row (H2's default waits up to 500 ms, and a crash
     * in that window would lose a READY that the client was already told about). Deploys and events are rare
     * writes, so the cost does not show. H2 does not fsync each commit: a power loss can lose the last commits, never
     * the file (MVStore appends checksummed chunks and reopens at the last whole one), and the start-up
     * reconciliation ({@code CellManager.restore}) then removes folders without rows and fails rows without folders.
     * {@code DB_CLOSE_ON_EXIT=FALSE} leaves the shutdown to {@link #shutdown}, which runs after the cells have stopped
     * writing events; its {@code SHUTDOWN} marks the file clean, so the next open needs no recovery
     * ({@code CleanStopTest} reads that mark).
     */
    public static HikariDataSource open(Path dir) {
        String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("deployer")
                + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername("deployer");
        config.setPassword("");
        config.setPoolName("deployer-db");
        config.setMaximumPoolSize(8);
        config.setMinimumIdle(1);
        // A failing disk must not hang every caller for Hikari's default 30 s: readiness answers within a few.
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        config.setExceptionOverride(new H2Faults());
        return migrated(config, "in " + dir);
    }

    /**
     * Opens a PostgreSQL database ({@code jdbc:postgresql://…}) through the same kind of pool and the same
     * migrations. {@code user} and {@code password} may be null when the URL carries them. The server's own
     * connection faults (SQLState class 08) leave the pool as HikariCP does by default, so a database that comes
     * back is reached with fresh connections.
     */
    public static HikariDataSource openPostgres(String url, String user, String password) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        if (user != null) {
            config.setUsername(user);
        }
        if (password != null) {
            config.setPassword(password);
        }
        config.setPoolName("deployer-db");
        config.setMaximumPoolSize(8);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        // Without it the pool would refuse to start while the server is briefly away; the first migration then
        // says why in one message.
        config.setInitializationFailTimeout(-1);
        return migrated(config, "at " + url.replaceAll("password=[^&]*", "password=***"));
    }

    private static HikariDataSource migrated(HikariConfig config, String where) {
        HikariDataSource dataSource = new HikariDataSource(config);
        try (Connection c = firstConnection(dataSource)) {
            int ran = Migrations.migrate(c);
            if (ran > 0) {
                log.info("database schema: {} migration(s) applied", ran);
            }
        } catch (SQLException | RuntimeException e) {
            dataSource.close();
            throw new IllegalStateException("could not open the database " + where + ": " + e.getMessage(), e);
        }
        return dataSource;
    }

    /**
     * The pool's first connection, asked again while the pool only timed out (HikariCP's
     * {@link java.sql.SQLTransientConnectionException}) with nothing said or a connection fault (SQLState class 08)
     * until {@link #START_TIMEOUT_MS}; any other refusal (a wrong password, no such database, a locked file) is
     * final at once.
     */
    private static Connection firstConnection(HikariDataSource dataSource) throws SQLException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        while (true) {
            try {
                return dataSource.getConnection();
            } catch (java.sql.SQLTransientConnectionException e) {
                if (!unreachable(e) || System.nanoTime() - deadline >= 0) {
                    throw e;
                }
                log.info("waiting for the database: {}", e.getMessage());
            }
        }
    }

    private static boolean unreachable(java.sql.SQLTransientConnectionException e) {
        return e.getCause() == null || e.getCause() instanceof SQLException cause && cause.getSQLState() != null
                && cause.getSQLState().startsWith("08");
    }

    /** Whether the pool is the embedded H2 database's (one process, one file) rather than a shared server's. */
    public static boolean embedded(HikariDataSource dataSource) {
        return dataSource.getJdbcUrl().startsWith("jdbc:h2:");
    }

    /**
     * Closes H2 with {@code SHUTDOWN}, so the next start needs no recovery, then the pool; a shared server's pool is
     * only closed (other replicas still use the database).
     */
    public static void shutdown(HikariDataSource dataSource) {
        if (!embedded(dataSource)) {
            dataSource.close();
            return;
        }
        if (dataSource.getExceptionOverride() instanceof H2Faults faults) {
            faults.shuttingDown = true;
        }
        Connection c = null;
        try {
            c = dataSource.getConnection();
            try (Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        } catch (SQLException e) {
            log.warn("database shutdown failed: {}", e.getMessage());
        } finally {
            closeQuietly(c);
            dataSource.close();
        }
    }

    /** After SHUTDOWN the pool's connection is closed under it; handing it back fails, and that is expected. */
    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException expected) {
            log.debug("connection closed by SHUTDOWN: {}", expected.getMessage());
        }
    }
}
