package deployer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The schema migrations on a real H2 file: fresh, reopened, taken over from Flyway, and refusing what is wrong. */
class MigrationsTest {

    /** Every schema version this deployer knows: 1 to the newest, none missing. */
    private static final java.util.List<Integer> ALL = java.util.stream.IntStream
            .rangeClosed(1, Migrations.SCRIPTS.size()).boxed().toList();

    @TempDir
    Path dir;

    @Test
    void everyScriptInTheFolderIsListedInOrder() throws Exception {
        Path folder = Path.of("src/main/resources/db/migration");
        List<String> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.map(p -> p.getFileName().toString()).sorted(MigrationsTest::byVersion).toList();
        }
        assertThat(Migrations.SCRIPTS).containsExactlyElementsOf(files);
    }

    @Test
    void aFreshDatabaseGetsEveryScriptAndAReopenedOneNone() throws Exception {
        HikariDataSource first = Database.open(dir);
        try (Connection c = first.getConnection()) {
            assertThat(columns(c, "DEPLOYMENTS")).contains("RESTARTS", "SHA256", "MANIFEST");
            assertThat(versions(c)).containsExactlyElementsOf(ALL);
            assertThat(Migrations.migrate(c)).isZero();
        } finally {
            Database.shutdown(first);
        }
        HikariDataSource again = Database.open(dir);
        try (Connection c = again.getConnection()) {
            assertThat(versions(c)).containsExactlyElementsOf(ALL);
        } finally {
            Database.shutdown(again);
        }
    }

    @Test
    void aFolderMigratedByFlywayIsTakenOverWithoutRunningItsScriptsAgain() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(Files.readString(Path.of("src/main/resources/db/migration/V1__schema.sql")));
            s.execute("CREATE TABLE \"flyway_schema_history\" (\"installed_rank\" INT PRIMARY KEY,"
                    + " \"version\" VARCHAR(50), \"success\" BOOLEAN NOT NULL)");
            s.execute("INSERT INTO \"flyway_schema_history\" VALUES (1, '1', TRUE)");
            assertThat(Migrations.migrate(c)).as("all but V1 run: V1's tables already exist")
                    .isEqualTo(ALL.size() - 1);
            assertThat(versions(c)).containsExactlyElementsOf(ALL);
            assertThat(columns(c, "DEPLOYMENTS")).contains("RESTARTS");
        }
    }

    @Test
    void aScriptChangedAfterItRanStopsTheStart() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            Migrations.migrate(c);
            s.execute("UPDATE schema_history SET sha256 = REPEAT('0', 64) WHERE version = 2");
            assertThatThrownBy(() -> Migrations.migrate(c)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("V2__restarts.sql changed after it was applied")
                    .hasMessageContaining("new script");
        }
    }

    @Test
    void aDatabaseFromANewerDeployerIsRefused() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            Migrations.migrate(c);
            s.execute("INSERT INTO schema_history VALUES (99, 'V99__later.sql', REPEAT('0', 64), CURRENT_TIMESTAMP)");
            assertThatThrownBy(() -> Migrations.migrate(c)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("newer deployer (schema version 99; this one knows up to " + ALL.size() + ")");
        }
        assertThatThrownBy(() -> Database.open(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("could not open the database in " + dir)
                .hasMessageContaining("newer deployer");
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("deployer"), "deployer", "");
    }

    private static List<Integer> versions(Connection c) throws SQLException {
        List<Integer> versions = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT version FROM schema_history ORDER BY version")) {
            while (r.next()) {
                versions.add(r.getInt(1));
            }
        }
        return versions;
    }

    private static List<String> columns(Connection c, String table) throws SQLException {
        List<String> names = new ArrayList<>();
        try (ResultSet r = c.getMetaData().getColumns(null, null, table, null)) {
            while (r.next()) {
                names.add(r.getString("COLUMN_NAME"));
            }
        }
        return names;
    }

    private static int byVersion(String a, String b) {
        return Integer.compare(version(a), version(b));
    }

    private static int version(String script) {
        return Integer.parseInt(script.substring(1, script.indexOf("__")));
    }
}
