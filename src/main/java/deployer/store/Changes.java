package deployer.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The change feed in the database: one row per decision (upload, activate, stop, start, restart, delete, traffic), numbered
 * from the {@code change_counter} row. A writer holds that row's lock until it commits, so the numbers become
 * visible in order and a reader that remembers the last number it saw ({@link #since}) never misses one — also after
 * the database was away. A change is only a row; its effect is each replica's own reconciliation.
 */
public final class Changes {

    private final DataSource dataSource;
    private final String node;

    public Changes(DataSource dataSource, String node) {
        this.dataSource = dataSource;
        this.node = node;
    }

    /** Records a change made through this server; returns its number. */
    public long record(ChangeKind kind, String model) {
        Connection c = null;
        try {
            c = dataSource.getConnection();
            c.setAutoCommit(false);
            long id = record(c, kind, model, node);
            c.commit();
            return id;
        } catch (SQLException e) {
            if (c != null) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // broken connection; the failure says why
                }
            }
            throw new StoreException("recording a change", e);
        } finally {
            if (c != null) {
                try {
                    c.setAutoCommit(true);
                    c.close();
                } catch (SQLException ignored) {
                    // nothing more to do with it
                }
            }
        }
    }

    /** Records a change inside the caller's transaction, so it commits (or not) with the decision itself. */
    static long record(Connection c, ChangeKind kind, String model, String node) throws SQLException {
        try (PreparedStatement bump = c.prepareStatement("UPDATE change_counter SET last = last + 1 WHERE id = 1")) {
            bump.executeUpdate();
        }
        long id;
        try (PreparedStatement read = c.prepareStatement("SELECT last FROM change_counter WHERE id = 1");
             ResultSet rs = read.executeQuery()) {
            rs.next();
            id = rs.getLong(1);
        }
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO changes (id, time, kind, model, node) VALUES (?, ?, ?, ?, ?)")) {
            insert.setLong(1, id);
            insert.setTimestamp(2, Timestamp.from(Instant.now()));
            insert.setString(3, kind.code());
            insert.setString(4, model);
            insert.setString(5, node);
            insert.executeUpdate();
        }
        return id;
    }

    /** The number of the newest change (0 when there is none). */
    public long last() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT last FROM change_counter WHERE id = 1");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new StoreException("reading the change counter", e);
        }
    }

    /** The changes after number {@code after}, oldest first, at most {@code limit}; of every kind, known or not. */
    public List<Change> since(long after, int limit) {
        List<Change> changes = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT id, time, kind, model, node FROM changes"
                     + " WHERE id > ? ORDER BY id LIMIT ?")) {
            ps.setLong(1, after);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    changes.add(new Change(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3),
                            rs.getString(4), rs.getString(5)));
                }
            }
            return changes;
        } catch (SQLException e) {
            throw new StoreException("reading changes", e);
        }
    }

    /** The node this server writes its changes as. */
    public String node() {
        return node;
    }
}
