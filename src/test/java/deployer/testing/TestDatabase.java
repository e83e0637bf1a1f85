package deployer.testing;

import com.zaxxer.hikari.HikariDataSource;
import deployer.core.Settings;
import deployer.store.Database;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The databases the store and the main server scenarios run on, for {@code @ParameterizedClass
 * @EnumSource(TestDatabase.class)}: the embedded H2 file in the test's data folder, and a fresh database of the real
 * PostgreSQL server of {@link Postgres} (a test on it is skipped, with the reason, where PostgreSQL cannot be had).
 */
public enum TestDatabase {
    H2,
    POSTGRESQL;

    /** The {@code --db} setting of a server on this database: for PostgreSQL a new, empty database each call. */
    public Settings.Db fresh() {
        if (this == H2) {
            return Settings.Db.EMBEDDED;
        }
        Assumptions.assumeTrue(Postgres.unavailable().isEmpty(), () -> Postgres.unavailable().orElse(""));
        return Settings.Db.postgresql(Postgres.server().newDatabase());
    }

    /** A migrated pool on this database: H2 in {@code dir}, or a new PostgreSQL database. */
    public HikariDataSource open(Path dir) {
        Settings.Db db = fresh();
        return db.embedded() ? Database.open(dir) : Database.openPostgres(db.url().orElseThrow(), null, null);
    }
}
