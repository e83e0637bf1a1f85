package deployer.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * The records of models, deployments and events, in plain JDBC. Every method is one transaction; failures surface
 * as {@link StoreException}.
 */
public final class Store {

    private static final String DEPLOYMENT_COLUMNS =
            "deploy_id, model, version, state, port, sha256, size, manifest, created, ready_at, attempts, error, restarts";

    private static final org.slf4j.Logger EVENTS = org.slf4j.LoggerFactory.getLogger("deployer.events");

    private final DataSource dataSource;

    public Store(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Records a new upload as the next version of its model, STARTING, creating the model on its first upload.
     * {@code beforeCommit} runs inside the transaction with the new row (its job: move the files into the folder
     * named by the id); if it throws, nothing is recorded.
     */
    public Deployment insertDeployment(String model, String sha256, long size, String manifest,
                                       Consumer<Deployment> beforeCommit) {
        return inTransaction(c -> {
            Instant now = Instant.now();
            try (PreparedStatement lock = c.prepareStatement("SELECT name FROM models WHERE name = ? FOR UPDATE")) {
                lock.setString(1, model);
                try (ResultSet rs = lock.executeQuery()) {
                    if (!rs.next()) {
                        try (PreparedStatement insert = c.prepareStatement(
                                "INSERT INTO models (name, created) VALUES (?, ?)")) {
                            insert.setString(1, model);
                            insert.setTimestamp(2, Timestamp.from(now));
                            insert.executeUpdate();
                        }
                    }
                }
            }
            int version;
            try (PreparedStatement next = c.prepareStatement(NEXT_VERSION)) {
                next.setString(1, model);
                next.setString(2, model);
                try (ResultSet rs = next.executeQuery()) {
                    rs.next();
                    version = rs.getInt(1);
                }
            }
            long id;
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO deployments (model, version, state, sha256, size, manifest, created)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                insert.setString(1, model);
                insert.setInt(2, version);
                insert.setString(3, State.STARTING.name());
                insert.setString(4, sha256);
                insert.setLong(5, size);
                insert.setString(6, manifest);
                insert.setTimestamp(7, Timestamp.from(now));
                insert.executeUpdate();
                try (ResultSet keys = insert.getGeneratedKeys()) {
                    keys.next();
                    id = keys.getLong(1);
                }
            }
            Deployment d = new Deployment(id, model, version, State.STARTING, null, sha256, size, manifest, now,
                    null, 0, null, 0);
            beforeCommit.accept(d);
            return d;
        });
    }

    public Optional<Deployment> deployment(long deployId) {
        return query("SELECT " + DEPLOYMENT_COLUMNS + " FROM deployments WHERE deploy_id = ?",
                ps -> ps.setLong(1, deployId), Store::deployment).stream().findFirst();
    }

    /** Every version of a model, newest first. */
    public List<Deployment> deployments(String model) {
        return query("SELECT " + DEPLOYMENT_COLUMNS + " FROM deployments WHERE model = ? ORDER BY version DESC",
                ps -> ps.setString(1, model), Store::deployment);
    }

    /** Every deployment in one of the given states, oldest first. */
    public List<Deployment> deploymentsIn(State... states) {
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < states.length; i++) {
            in.append(i == 0 ? "?" : ", ?");
        }
        return query("SELECT " + DEPLOYMENT_COLUMNS + " FROM deployments WHERE state IN (" + in
                + ") ORDER BY deploy_id", ps -> {
                    for (int i = 0; i < states.length; i++) {
                        ps.setString(i + 1, states[i].name());
                    }
                }, Store::deployment);
    }

    public Optional<ModelRecord> model(String name) {
        return query("SELECT name, port, active_deploy_id, created FROM models WHERE name = ?",
                ps -> ps.setString(1, name), Store::model).stream().findFirst();
    }

    public List<ModelRecord> models() {
        return query("SELECT name, port, active_deploy_id, created FROM models ORDER BY name", ps -> { },
                Store::model);
    }

    /** Sets a deployment's state, attempts and error (null clears it); {@code READY} also stamps {@code ready_at}. */
    public void updateState(long deployId, State state, Integer port, int attempts, String error) {
        update("UPDATE deployments SET state = ?, port = COALESCE(?, port), attempts = ?, error = ?,"
                + " ready_at = CASE WHEN ? THEN CURRENT_TIMESTAMP ELSE ready_at END WHERE deploy_id = ?", ps -> {
                    ps.setString(1, state.name());
                    if (port == null) {
                        ps.setNull(2, Types.INTEGER);
                    } else {
                        ps.setInt(2, port);
                    }
                    ps.setInt(3, attempts);
                    ps.setString(4, error);
                    ps.setBoolean(5, state == State.READY);
                    ps.setLong(6, deployId);
                });
    }

    /** Sets only the state, keeping attempts and error. */
    public void setState(long deployId, State state) {
        update("UPDATE deployments SET state = ? WHERE deploy_id = ?", ps -> {
            ps.setString(1, state.name());
            ps.setLong(2, deployId);
        });
    }

    /**
     * Makes {@code deployId} the model's active version, READY, and retires the one it replaces, in one
     * transaction.
     */
    public void activate(String model, long deployId, int port, int attempts, boolean restart) {
        inTransaction(c -> {
            try (PreparedStatement retire = c.prepareStatement("UPDATE deployments SET state = 'RETIRED'"
                    + " WHERE model = ? AND deploy_id <> ? AND state IN ('READY', 'STOPPED')")) {
                retire.setString(1, model);
                retire.setLong(2, deployId);
                retire.executeUpdate();
            }
            try (PreparedStatement ready = c.prepareStatement("UPDATE deployments SET state = 'READY', port = ?,"
                    + " attempts = ?, error = NULL, ready_at = CURRENT_TIMESTAMP, restarts = restarts + ?"
                    + " WHERE deploy_id = ?")) {
                ready.setInt(1, port);
                ready.setInt(2, attempts);
                ready.setInt(3, restart ? 1 : 0);
                ready.setLong(4, deployId);
                ready.executeUpdate();
            }
            try (PreparedStatement active = c.prepareStatement(
                    "UPDATE models SET active_deploy_id = ?, port = ? WHERE name = ?")) {
                active.setLong(1, deployId);
                active.setInt(2, port);
                active.setString(3, model);
                active.executeUpdate();
            }
            return null;
        });
    }

    /** Records an error on a deployment without changing its state (a failed restart of a serving cell). */
    public void setError(long deployId, String error) {
        update("UPDATE deployments SET error = ? WHERE deploy_id = ?", ps -> {
            ps.setString(1, error);
            ps.setLong(2, deployId);
        });
    }

    /** Records the port a model bound, so it keeps it. */
    public void setPort(String model, int port) {
        update("UPDATE models SET port = ? WHERE name = ?", ps -> {
            ps.setInt(1, port);
            ps.setString(2, model);
        });
    }

    /** The ports held by models other than {@code model}. */
    public List<Integer> portsTakenByOthers(String model) {
        return query("SELECT port FROM models WHERE port IS NOT NULL AND name <> ?", ps -> ps.setString(1, model),
                rs -> rs.getInt(1));
    }

    /** The event kind {@link #deleteVersion} records, in the same transaction as the delete. */
    public static final String VERSION_DELETED = "version-deleted";

    /**
     * The next version of a model: one past the highest of its rows and of the versions deleted one by one since the
     * model was made ({@link #deleteVersion}), so a number never names two uploads.
     */
    private static final String NEXT_VERSION = "SELECT GREATEST(COALESCE(MAX(version), 0),"
            + " COALESCE((SELECT MAX(e.version) FROM events e JOIN models m ON m.name = e.model"
            + " WHERE e.model = ? AND e.kind = '" + VERSION_DELETED + "' AND e.time >= m.created), 0)) + 1"
            + " FROM deployments WHERE model = ?";

    /**
     * Removes one version that does not serve — not the model's active version, not STARTING or READY — and records
     * the {@value #VERSION_DELETED} event in the same transaction. A compare-and-set: false when the version is
     * gone or serves by now.
     */
    public boolean deleteVersion(String model, int version, String message) {
        return inTransaction(c -> {
            long deployId;
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM deployments WHERE model = ? AND version = ?"
                    + " AND state NOT IN ('STARTING', 'READY') AND deploy_id NOT IN (SELECT active_deploy_id FROM"
                    + " models WHERE name = ? AND active_deploy_id IS NOT NULL)")) {
                Deployment d = deployments(model).stream().filter(x -> x.version() == version).findFirst()
                        .orElse(null);
                if (d == null) {
                    return false;
                }
                deployId = d.deployId();
                delete.setString(1, model);
                delete.setInt(2, version);
                delete.setString(3, model);
                if (delete.executeUpdate() != 1) {
                    return false;
                }
            }
            try (PreparedStatement event = c.prepareStatement("INSERT INTO events (time, model, version, deploy_id,"
                    + " kind, message) VALUES (?, ?, ?, ?, ?, ?)")) {
                event.setTimestamp(1, Timestamp.from(Instant.now()));
                event.setString(2, model);
                event.setInt(3, version);
                event.setLong(4, deployId);
                event.setString(5, VERSION_DELETED);
                event.setString(6, message);
                event.executeUpdate();
            }
            EVENTS.info("{} v{} [{}] {}", model, version, VERSION_DELETED, message);
            return true;
        });
    }

    /** Removes a model and all its deployments; the events stay. */
    public void deleteModel(String model) {
        update("DELETE FROM models WHERE name = ?", ps -> ps.setString(1, model));
    }

    public void event(String model, Integer version, Long deployId, String kind, String message) {
        // The audit log is mirrored to the server log, so `deployer events` and grep tell the same story.
        EVENTS.info("{}{} [{}] {}", model == null ? "-" : model, version == null ? "" : " v" + version, kind,
                message);
        update("INSERT INTO events (time, model, version, deploy_id, kind, message) VALUES (?, ?, ?, ?, ?, ?)",
                ps -> {
                    ps.setTimestamp(1, Timestamp.from(Instant.now()));
                    ps.setString(2, model);
                    if (version == null) {
                        ps.setNull(3, Types.INTEGER);
                    } else {
                        ps.setInt(3, version);
                    }
                    if (deployId == null) {
                        ps.setNull(4, Types.BIGINT);
                    } else {
                        ps.setLong(4, deployId);
                    }
                    ps.setString(5, kind);
                    ps.setString(6, message);
                });
    }

    /** The newest events first, of one model or (model null) of all. */
    public List<Event> events(String model, int limit) {
        String where = model == null ? "" : " WHERE model = ?";
        return query("SELECT id, time, model, version, deploy_id, kind, message FROM events" + where
                + " ORDER BY id DESC LIMIT ?", ps -> {
                    int i = 1;
                    if (model != null) {
                        ps.setString(i++, model);
                    }
                    ps.setInt(i, limit);
                }, rs -> new Event(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3),
                        (Integer) rs.getObject(4), (Long) rs.getObject(5), rs.getString(6), rs.getString(7)));
    }

    private static Deployment deployment(ResultSet rs) throws SQLException {
        Timestamp ready = rs.getTimestamp(10);
        return new Deployment(rs.getLong(1), rs.getString(2), rs.getInt(3), State.valueOf(rs.getString(4)),
                (Integer) rs.getObject(5), rs.getString(6), rs.getLong(7), rs.getString(8),
                rs.getTimestamp(9).toInstant(), ready == null ? null : ready.toInstant(), rs.getInt(11),
                rs.getString(12), rs.getInt(13));
    }

    private static ModelRecord model(ResultSet rs) throws SQLException {
        return new ModelRecord(rs.getString(1), (Integer) rs.getObject(2), (Long) rs.getObject(3),
                rs.getTimestamp(4).toInstant());
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> List<T> query(String sql, Binder binder, RowMapper<T> mapper) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(mapper.map(rs));
                }
                return rows;
            }
        } catch (SQLException e) {
            throw new StoreException(sql, e);
        }
    }

    private void update(String sql, Binder binder) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException(sql, e);
        }
    }

    private <T> T inTransaction(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("transaction", e);
        }
    }
}
