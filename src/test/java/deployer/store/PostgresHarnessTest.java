package deployer.store;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class PostgresHarnessTest {
    @Test
    void eachTestDatabaseIsFreshAndSeparate() throws Exception {
        Assumptions.assumeTrue(Postgres.unavailable().isEmpty(), () -> Postgres.unavailable().orElse(""));
        String a = Postgres.server().newDatabase();
        String b = Postgres.server().newDatabase();
        assertThat(a).isNotEqualTo(b);
        try (Connection c = DriverManager.getConnection(a)) {
            c.createStatement().execute("CREATE TABLE t (x INT)");
            c.createStatement().execute("INSERT INTO t VALUES (41)");
        }
        try (Connection c = DriverManager.getConnection(b);
             ResultSet r = c.getMetaData().getTables(null, null, "t", null)) {
            assertThat(r.next()).as("a table of database A seen in B").isFalse();
        }
    }
}
