package deployer.store;

import deployer.core.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Brings the schema up to date: the scripts in {@code db/migration}, in order, each applied once and recorded in
 * {@code schema_history} with its SHA-256. A script that changed after it ran, or a database written by a newer
 * deployer, stops the start with a message saying so.
 *
 * <p>This replaces Flyway, which did the same for these two scripts but cost 0.35–0.6 s of every start (it loads
 * ~800 classes, its own and Jackson's), the largest single step of a start (BENCHMARKS.md, row 7). A data folder
 * migrated by Flyway is taken over: the versions in its {@code flyway_schema_history} count as applied.
 *
 * <p>H2 commits each DDL statement by itself, so a script that fails half-way is not rolled back; its version is
 * not recorded and the error names it. On PostgreSQL each script and its record are one transaction, and the whole
 * migration holds an advisory lock, so replicas that start together migrate once, one after the other.
 *
 * <p>The scripts are portable SQL. Where a dialect cannot run one, {@code db/migration/<dialect>/} holds that
 * dialect's script for the same version and name ({@code postgresql/V1__schema.sql}: identity columns and TEXT
 * instead of H2's AUTO_INCREMENT and CLOB); it is checksummed as what ran on that database.
 */
final class Migrations {

    /** Every script, oldest first; a new one goes at the end with the next number. Never edit one that shipped. */
    static final List<String> SCRIPTS = List.of("V1__schema.sql", "V2__restarts.sql", "V3__control.sql",
            "V4__tokens.sql", "V5__replicas.sql", "V6__traffic.sql");

    private static final String FOLDER = "/db/migration/";

    /** The folder under {@link #FOLDER} of PostgreSQL's own scripts. */
    static final String POSTGRESQL = "postgresql";

    /** The key of the advisory lock that serializes migrations of one PostgreSQL database ("dplr" in ASCII). */
    private static final long MIGRATION_LOCK = 0x64706c72L;

    private Migrations() {
    }

    /** Applies the scripts not yet applied; returns how many ran. */
    static int migrate(Connection c) throws SQLException {
        String dialect = dialect(c);
        if (dialect == null) {
            return migrate(c, null);
        }
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
        }
        try {
            return migrate(c, dialect);
        } finally {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
            }
        }
    }

    /** The folder of the database's own scripts: {@value #POSTGRESQL} for PostgreSQL, null for H2. */
    static String dialect(Connection c) throws SQLException {
        return "PostgreSQL".equals(c.getMetaData().getDatabaseProductName()) ? POSTGRESQL : null;
    }

    private static int migrate(Connection c, String dialect) throws SQLException {
        Map<Integer, String> scripts = load(dialect);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_history (version INT PRIMARY KEY, script VARCHAR(200) NOT NULL,"
                    + " sha256 CHAR(64) NOT NULL, applied TIMESTAMP WITH TIME ZONE NOT NULL)");
        }
        Map<Integer, String> applied = applied(c);
        if (applied.isEmpty()) {
            applied = takeOverFlyway(c, scripts);
        }
        int newest = scripts.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        for (Map.Entry<Integer, String> done : applied.entrySet()) {
            if (done.getKey() > newest) {
                throw new IllegalStateException("the database was written by a newer deployer (schema version "
                        + done.getKey() + "; this one knows up to " + newest + "): run the newer deployer, or"
                        + " start this one on another --data");
            }
            String script = SCRIPTS.get(done.getKey() - 1);
            if (!done.getValue().equals(sha256(scripts.get(done.getKey())))) {
                throw new IllegalStateException("db/migration/" + script + " changed after it was applied to this"
                        + " database; a script that has run must stay as it is: restore it, and put the change in a"
                        + " new script");
            }
        }
        int ran = 0;
        for (Map.Entry<Integer, String> script : scripts.entrySet()) {
            if (applied.containsKey(script.getKey())) {
                continue;
            }
            String name = SCRIPTS.get(script.getKey() - 1);
            boolean transactional = dialect != null;
            if (transactional) {
                c.setAutoCommit(false);
            }
            try {
                try (Statement s = c.createStatement()) {
                    s.execute(script.getValue());
                } catch (SQLException e) {
                    throw new SQLException("db/migration/" + name + " failed: " + e.getMessage(), e.getSQLState(), e);
                }
                record(c, script.getKey(), name, script.getValue());
                if (transactional) {
                    c.commit();
                }
            } catch (SQLException | RuntimeException e) {
                if (transactional) {
                    c.rollback();
                }
                throw e;
            } finally {
                if (transactional) {
                    c.setAutoCommit(true);
                }
            }
            ran++;
        }
        return ran;
    }

    /** The scripts as {@code dialect} runs them (null: the portable ones), by version. */
    static Map<Integer, String> load(String dialect) {
        Map<Integer, String> scripts = new LinkedHashMap<>();
        for (int i = 0; i < SCRIPTS.size(); i++) {
            String name = SCRIPTS.get(i);
            if (!name.startsWith("V" + (i + 1) + "__")) {
                throw new IllegalStateException("migration " + name + " is out of order: script " + (i + 1)
                        + " must be named V" + (i + 1) + "__<what>.sql");
            }
            String own = dialect == null ? null : FOLDER + dialect + "/" + name;
            String path = own != null && Migrations.class.getResource(own) != null ? own : FOLDER + name;
            try (InputStream in = Migrations.class.getResourceAsStream(path)) {
                if (in == null) {
                    throw new IllegalStateException("migration " + FOLDER + name + " is missing from the jar");
                }
                scripts.put(i + 1, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new IllegalStateException("could not read migration " + name + ": " + e.getMessage(), e);
            }
        }
        return scripts;
    }

    private static Map<Integer, String> applied(Connection c) throws SQLException {
        Map<Integer, String> applied = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT version, sha256 FROM schema_history ORDER BY version")) {
            while (r.next()) {
                applied.put(r.getInt(1), r.getString(2));
            }
        }
        return applied;
    }

    /** A folder migrated by Flyway: its successful versions are recorded as applied, with today's checksums. */
    private static Map<Integer, String> takeOverFlyway(Connection c, Map<Integer, String> scripts)
            throws SQLException {
        Map<Integer, String> applied = new LinkedHashMap<>();
        DatabaseMetaData meta = c.getMetaData();
        try (ResultSet tables = meta.getTables(null, null, "flyway_schema_history", null)) {
            if (!tables.next()) {
                return applied;
            }
        }
        int version = 0;
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
                "SELECT \"version\" FROM \"flyway_schema_history\" WHERE \"success\" AND \"version\" IS NOT NULL")) {
            while (r.next()) {
                version = Math.max(version, Integer.parseInt(r.getString(1).trim()));
            }
        }
        for (int v = 1; v <= version && scripts.containsKey(v); v++) {
            record(c, v, SCRIPTS.get(v - 1), scripts.get(v));
            applied.put(v, sha256(scripts.get(v)));
        }
        if (version > scripts.size()) {
            applied.put(version, "");
        }
        return applied;
    }

    private static void record(Connection c, int version, String name, String text) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(
                "INSERT INTO schema_history (version, script, sha256, applied) VALUES (?, ?, ?, ?)")) {
            p.setInt(1, version);
            p.setString(2, name);
            p.setString(3, sha256(text));
            p.setObject(4, OffsetDateTime.now());
            p.executeUpdate();
        }
    }

    static String sha256(String text) {
        return Sha256.hex(text);
    }
}
