package deployer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.testing.Packages;
import deployer.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.Settings;

/** {@code --db} / {@code DEPLOYER_DB}: a real server process keeps its records in PostgreSQL; a wrong value is refused. */
class DbSettingTest {

    @TempDir
    Path data;

    @TempDir
    Path logs;

    final ChildHttp http = new ChildHttp();

    @Test
    void aServerStartedWithDeployerDbKeepsItsRecordsInPostgresqlAndNoneUnderItsDataFolder() throws Exception {
        String url = TestDatabase.POSTGRESQL.fresh().url().orElseThrow();
        try (ChildServer server = ChildServer.start(data, logs.resolve("pg.log"), Map.of("DEPLOYER_DB", url))) {
            TestServer.Response r = http.upload(server, Packages.zip(TestModels.echo("shared")), "wait=60");
            assertThat(r.object()).as(r.text()).containsEntry("state", "READY");
        }
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT model, version, state FROM deployments")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("shared");
            assertThat(rs.getInt(2)).isEqualTo(1);
            assertThat(rs.next()).isFalse();
        }
        assertThat(Files.exists(data.resolve("db"))).as("an H2 file beside PostgreSQL").isFalse();
    }

    @Test
    void aUrlThatIsNotPostgresqlIsRefusedNamingTheFlagWithoutItsPassword() throws Exception {
        Path log = logs.resolve("mysql.log");
        assertThatThrownBy(() -> ChildServer.start(data, log, "--db", "jdbc:mysql://db:3306/x?password=hunter2"))
                .hasMessageContaining("exited with 2");
        assertThat(Files.readString(log)).contains("deployer: --db: jdbc:mysql://db:3306/x?password=***"
                + " is not a PostgreSQL JDBC URL").doesNotContain("hunter2");
    }

    @Test
    void credentialsWithoutADatabaseAreRefused() {
        assertThatThrownBy(() -> new Settings.Db(Optional.empty(), Optional.of("deployer"), Optional.empty(),
                Optional.empty()))
                .hasMessage("--db-user: there is no --db (DEPLOYER_DB) to log in to");
        Settings.Db db = new Settings.Db(Optional.of("jdbc:postgresql://h/d"), Optional.of("u"),
                Optional.of("hunter2"), Optional.empty());
        assertThat(db.toString()).doesNotContain("hunter2");
        assertThat(db.embedded()).isFalse();
        assertThat(Settings.Db.EMBEDDED.embedded()).isTrue();
    }
}
