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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * The records of models, deployments and events, in plain JDBC. Every method is one transaction; failures surface
 * as {@link StoreException}. Every change of a deployment's state is one compare-and-set on its row
 * ({@code UPDATE … WHERE deploy_id = ? AND state = ?}), checked against {@link State#allowedNext()}; a caller that
 * lost a race learns it from the answer ({@code false}, or {@link StaleState}), never by undoing the winner's work.
 *
 * <p>The store also keeps the last storage fault it met ({@link #health()}): a write that failed (a full disk, an
 * I/O error, a database H2 closed after such an error) makes the server not ready until a write succeeds again.
 * Connections that failed that way are evicted from the pool ({@code Database.H2Faults}), so the next one opens the
 * database afresh.
 */
public final class Store {

    private static final String DEPLOYMENT_COLUMNS =
            "deploy_id, model, version, state, port, sha256, size, manifest, created, ready_at, attempts, error, restarts";

    private final DataSource dataSource;
    /** The server that writes through this store, named in the events it writes ({@code --node}). */
    private final String node;
    /** Told of each event as it is recorded ({@link #event}). */
    private final EventListener listener;
    /** The last write that failed for a storage reason, until a write succeeds again; null when healthy. */
    private final AtomicReference<String> writeFault = new AtomicReference<>();

    public Store(DataSource dataSource) {
        this(dataSource, null);
    }

    /** A store whose events name {@code node} (null: none), for replicas sharing one database. */
    public Store(DataSource dataSource, String node) {
        this(dataSource, node, EventListener.NONE);
    }

    /** The same, {@code listener} told of each event as it is recorded (the server log's mirror: the root's). */
    public Store(DataSource dataSource, String node, EventListener listener) {
        this.dataSource = dataSource;
        this.node = node;
        this.listener = listener;
    }

    /**
     * Empty when the database answers and the last write succeeded; else why not, in words for a health check.
     * After a failed write this tries one small write of its own, so a disk that has space again is noticed without
     * waiting for a user's write.
     */
    public Optional<String> health() {
        try {
            if (writeFault.get() != null) {
                update("UPDATE store_probe SET at = ? WHERE id = 1",
                        ps -> ps.setTimestamp(1, Timestamp.from(Instant.now())));
            } else {
                query("SELECT 1", ps -> { }, rs -> rs.getInt(1));
            }
            return Optional.empty();
        } catch (StoreException e) {
            return Optional.of("the database is failing: " + e.reason());
        }
    }

    /** The version {@code GET /api/models} shows for a model: its active one, else (none was READY yet) the newest. */
    public static Deployment shown(ModelRecord model, List<Deployment> newestFirst) {
        if (model.activeDeployId() != null) {
            for (Deployment d : newestFirst) {
                if (d.deployId() == model.activeDeployId()) {
                    return d;
                }
            }
        }
        return newestFirst.isEmpty() ? null : newestFirst.get(0);
    }

    /** Whether any model or deployment is recorded at all (an empty database beside model folders is suspect). */
    public boolean isEmpty() {
        return query("SELECT COUNT(*) FROM models", ps -> { }, rs -> rs.getLong(1)).get(0) == 0;
    }

    /**
     * Records a new upload as the next version of its model, STARTING, creating the model on its first upload.
     * {@code beforeCommit} runs inside the transaction with the new row (its job: move the files into the folder
     * named by the id); if it throws, nothing is recorded.
     */
    public Deployment insertDeployment(String model, String sha256, long size, String manifest,
                                       Consumer<Deployment> beforeCommit) {
        return insertDeployment(model, sha256, size, manifest, List.of(), beforeCommit);
    }

    /** {@link #insertDeployment}, recording in the same transaction the blobs of its files ({@link Blobs}). */
    public Deployment insertDeployment(String model, String sha256, long size, String manifest,
                                       List<StoredFile> files, Consumer<Deployment> beforeCommit) {
        return inTransaction(c -> {
            Instant now = Instant.now();
            try (PreparedStatement lock = c.prepareStatement(
                    "SELECT name, deleting FROM models WHERE name = ? FOR UPDATE")) {
                lock.setString(1, model);
                try (ResultSet rs = lock.executeQuery()) {
                    boolean exists = rs.next();
                    if (exists && rs.getBoolean(2)) {
                        throw new StaleState("model " + model + " is being deleted; upload it again once the delete"
                                + " is done (GET /api/models/" + model + " answers 404 then)");
                    }
                    if (!exists) {
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
            if (!files.isEmpty()) {
                try (PreparedStatement file = c.prepareStatement(
                        "INSERT INTO deployment_files (deploy_id, path, sha256, size) VALUES (?, ?, ?, ?)")) {
                    for (StoredFile f : files) {
                        file.setLong(1, id);
                        file.setString(2, f.path());
                        file.setString(3, f.sha256());
                        file.setLong(4, f.size());
                        file.addBatch();
                    }
                    file.executeBatch();
                }
            }
            beforeCommit.accept(d);
            return d;
        });
    }

    /**
     * Writes this replica's view of a model (only this replica writes its rows, so an update, else an insert, is
     * enough); false when the model was deleted meanwhile. {@code seen} is the database's clock, not this server's,
     * so replicas on boxes whose clocks differ still agree which of them stopped heart-beating ({@link #beat}).
     */
    public boolean report(Replica r) {
        Binder bind = ps -> {
            if (r.version() == null) {
                ps.setNull(1, Types.INTEGER);
            } else {
                ps.setInt(1, r.version());
            }
            ps.setString(2, r.state());
            if (r.port() == null) {
                ps.setNull(3, Types.INTEGER);
            } else {
                ps.setInt(3, r.port());
            }
            ps.setBoolean(4, r.healthy());
            ps.setTimestamp(5, r.lastPing() == null ? null : Timestamp.from(r.lastPing()));
            ps.setString(6, r.node());
            ps.setString(7, r.model());
        };
        if (update("UPDATE replicas SET version = ?, state = ?, port = ?, healthy = ?, last_ping = ?,"
                + " seen = CURRENT_TIMESTAMP WHERE node = ? AND model = ?", bind) == 1) {
            return true;
        }
        try {
            return update("INSERT INTO replicas (version, state, port, healthy, last_ping, node, model, seen)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)", bind) == 1;
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException sql && sql.getSQLState() != null
                    && sql.getSQLState().startsWith("23")) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Every replica's view of a model, by node; empty on the embedded database. A node that has not heart-beaten
     * ({@link #beat}) for {@link Replica#GONE_AFTER} by the database's clock is shown {@link Replica#GONE}, not
     * healthy, whatever its last view said (it died mid-start, or was killed): never as serving.
     */
    public List<Replica> replicas(String model) {
        return query("SELECT node, model, version, state, port, healthy, last_ping, seen, CURRENT_TIMESTAMP"
                + " FROM replicas WHERE model = ? ORDER BY node", ps -> ps.setString(1, model), rs -> {
                    Timestamp ping = rs.getTimestamp(7);
                    java.time.Instant seen = rs.getTimestamp(8).toInstant();
                    boolean gone = seen.plus(Replica.GONE_AFTER).isBefore(rs.getTimestamp(9).toInstant());
                    return new Replica(rs.getString(1), rs.getString(2), (Integer) rs.getObject(3),
                            gone ? Replica.GONE : rs.getString(4), (Integer) rs.getObject(5),
                            !gone && rs.getBoolean(6), ping == null ? null : ping.toInstant(), seen);
                });
    }

    /** This node is alive: every row it holds is marked seen now, by the database's clock. */
    public void beat(String node) {
        update("UPDATE replicas SET seen = CURRENT_TIMESTAMP WHERE node = ?", ps -> ps.setString(1, node));
    }

    /**
     * A node starting: the rows it left (a view from before it stopped or was killed) go, so what it reports from
     * now on is what it serves now.
     */
    public int forgetReplica(String node) {
        return update("DELETE FROM replicas WHERE node = ?", ps -> ps.setString(1, node));
    }

    /** Deletes the rows of nodes silent for longer than {@code silence} (by the database's clock); returns how many. */
    public int pruneReplicas(java.time.Duration silence) {
        java.time.Instant now = query("SELECT CURRENT_TIMESTAMP FROM change_counter WHERE id = 1", ps -> { },
                rs -> rs.getTimestamp(1).toInstant()).stream().findFirst().orElseThrow();
        return update("DELETE FROM replicas WHERE seen < ?", ps -> ps.setTimestamp(1,
                Timestamp.from(now.minus(silence))));
    }

    /**
     * The event kinds written by the server that moves a version to STARTING and runs its start (CellManager: an
     * upload, a start, an activation, a start after a restart): the node of a STARTING version's newest such event
     * is the one deciding its start.
     */
    private static final String START_DECISIONS = "'received', 'starting', 'activating', 'restoring'";

    /** Who decided a STARTING version's start: the node and id of its newest start decision event, and when. */
    public record Decider(String node, long eventId, Instant time) {
    }

    /** Every version STARTING now, of every model. */
    public List<Deployment> starting() {
        return query("SELECT " + DEPLOYMENT_COLUMNS + " FROM deployments WHERE state = 'STARTING'", ps -> { },
                Store::deployment);
    }

    /** The node deciding {@code d}'s start ({@link Decider}); empty when no event says (a start older than them). */
    public Optional<Decider> decider(Deployment d) {
        return query("SELECT node, id, time FROM events WHERE model = ? AND deploy_id = ? AND kind IN ("
                + START_DECISIONS + ") ORDER BY id DESC LIMIT 1", ps -> {
                    ps.setString(1, d.model());
                    ps.setLong(2, d.deployId());
                }, rs -> new Decider(rs.getString(1), rs.getLong(2), rs.getTimestamp(3).toInstant()))
                .stream().findFirst();
    }

    /** When {@code node} last heart-beat (the database's clock); empty when it holds no replica row. */
    public Optional<Instant> lastSeen(String node) {
        return query("SELECT MAX(seen) FROM replicas WHERE node = ?", ps -> ps.setString(1, node),
                rs -> rs.getTimestamp(1)).stream().filter(java.util.Objects::nonNull).map(Timestamp::toInstant)
                .findFirst();
    }

    /** The database's clock. */
    public Instant now() {
        return query("SELECT CURRENT_TIMESTAMP FROM change_counter WHERE id = 1", ps -> { },
                rs -> rs.getTimestamp(1).toInstant()).stream().findFirst().orElseThrow();
    }

    /**
     * Marks a STARTING version FAILED with {@code error} if it is still STARTING by the same decision ({@code
     * decider}'s event is still its newest): a compare-and-set, so of several replicas doing so one wins; false for
     * the others, and when it was decided again meanwhile.
     */
    public boolean failAbandoned(Deployment d, Decider decider, String error) {
        return update("UPDATE deployments SET state = 'FAILED', error = ? WHERE deploy_id = ? AND state = 'STARTING'"
                + " AND (SELECT MAX(e.id) FROM events e WHERE e.model = ? AND e.deploy_id = ? AND e.kind IN ("
                + START_DECISIONS + ")) = ?", ps -> {
                    ps.setString(1, error);
                    ps.setLong(2, d.deployId());
                    ps.setString(3, d.model());
                    ps.setLong(4, d.deployId());
                    ps.setLong(5, decider.eventId());
                }) == 1;
    }

    /** The files of a version kept as blobs, by path; empty for one uploaded to the embedded database. */
    public List<StoredFile> files(long deployId) {
        return query("SELECT path, sha256, size FROM deployment_files WHERE deploy_id = ? ORDER BY path",
                ps -> ps.setLong(1, deployId), rs -> new StoredFile(rs.getString(1), rs.getString(2), rs.getLong(3)));
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

    public Optional<ModelRecord> model(String name) {
        return query("SELECT name, port, active_deploy_id, created FROM models WHERE name = ?",
                ps -> ps.setString(1, name), Store::model).stream().findFirst();
    }

    public List<ModelRecord> models() {
        return query("SELECT name, port, active_deploy_id, created FROM models ORDER BY name", ps -> { },
                Store::model);
    }

    /**
     * Changes a deployment's state from {@code from} to {@code to} if it is still {@code from}; returns whether it
     * was. Attempts and error stay as they are.
     *
     * @throws IllegalArgumentException when the state machine has no such arrow (our bug)
     */
    public boolean transition(long deployId, State from, State to) {
        check(from, to);
        return update("UPDATE deployments SET state = ? WHERE deploy_id = ? AND state = ?", ps -> {
            ps.setString(1, to.name());
            ps.setLong(2, deployId);
            ps.setString(3, from.name());
        }) == 1;
    }

    /** {@link #transition}, or a {@link StaleState} naming what the deployment is now. */
    public void require(long deployId, State from, State to) {
        if (!transition(deployId, from, to)) {
            throw stale(deployId, from);
        }
    }

    /** Marks a deployment FAILED with its reason if it is still {@code from}; returns whether it was. */
    public boolean fail(long deployId, State from, int attempts, String error) {
        check(from, State.FAILED);
        return update("UPDATE deployments SET state = 'FAILED', attempts = ?, error = ?"
                + " WHERE deploy_id = ? AND state = ?", ps -> {
                    ps.setInt(1, attempts);
                    ps.setString(2, error);
                    ps.setLong(3, deployId);
                    ps.setString(4, from.name());
                }) == 1;
    }

    private static void check(State from, State to) {
        if (!from.canBecome(to)) {
            throw new IllegalArgumentException("no state change " + from + " -> " + to + "; allowed from " + from
                    + ": " + from.allowedNext());
        }
    }

    private StaleState stale(long deployId, State expected) {
        String now = deployment(deployId)
                .map(d -> "is " + d.state() + (d.error() == null ? "" : " (" + d.error() + ")"))
                .orElse("no longer exists");
        return new StaleState("deployment " + deployId + " " + now + ", not " + expected
                + ": another request changed it first");
    }

    /**
     * Makes {@code deployId} the model's active version, READY, and retires the one it replaces, in one
     * transaction; only while it is STARTING (or READY, for a fresh cell of the serving version). Returns whether it
     * was: false when it was cancelled or deleted meanwhile, and then nothing changed.
     */
    public boolean activate(String model, long deployId, int port, int attempts, boolean restart) {
        return activate(model, deployId, port, attempts, restart, List.of());
    }

    /** The same, but the versions {@code kept} (serving beside it, in a traffic split) stay as they are. */
    public boolean activate(String model, long deployId, int port, int attempts, boolean restart,
                            java.util.Collection<Long> kept) {
        StringBuilder keep = new StringBuilder();
        for (long id : kept) {
            keep.append(" AND deploy_id <> ").append(id);
        }
        return inTransaction(c -> {
            try (PreparedStatement retire = c.prepareStatement("UPDATE deployments SET state = 'RETIRED'"
                    + " WHERE model = ? AND deploy_id <> ? AND state IN ('READY', 'STOPPED')" + keep)) {
                retire.setString(1, model);
                retire.setLong(2, deployId);
                retire.executeUpdate();
            }
            try (PreparedStatement ready = c.prepareStatement("UPDATE deployments SET state = 'READY', port = ?,"
                    + " attempts = ?, error = NULL, ready_at = CURRENT_TIMESTAMP, restarts = restarts + ?"
                    + " WHERE deploy_id = ? AND state IN ('STARTING', 'READY')")) {
                ready.setInt(1, port);
                ready.setInt(2, attempts);
                ready.setInt(3, restart ? 1 : 0);
                ready.setLong(4, deployId);
                if (ready.executeUpdate() != 1) {
                    c.rollback();
                    return false;
                }
            }
            try (PreparedStatement active = c.prepareStatement(
                    "UPDATE models SET active_deploy_id = ?, port = ? WHERE name = ?")) {
                active.setLong(1, deployId);
                active.setInt(2, port);
                active.setString(3, model);
                active.executeUpdate();
            }
            return true;
        });
    }

    /**
     * Marks a version READY beside the model's active one (DESIGN 1.11 {@code ?activate=false}), the active version
     * unchanged; only while it is STARTING. Returns whether it was.
     */
    public boolean readyBeside(long deployId, int port, int attempts) {
        return update("UPDATE deployments SET state = 'READY', port = ?, attempts = ?, error = NULL,"
                + " ready_at = CURRENT_TIMESTAMP WHERE deploy_id = ? AND state = 'STARTING'", ps -> {
                    ps.setInt(1, port);
                    ps.setInt(2, attempts);
                    ps.setLong(3, deployId);
                }) == 1;
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

    /**
     * Marks a model as being deleted, if it exists and is not already; returns whether this call marked it. From
     * then on an upload of that name is refused ({@link #insertDeployment}).
     */
    public boolean markDeleting(String model) {
        return update("UPDATE models SET deleting = TRUE WHERE name = ? AND deleting = FALSE",
                ps -> ps.setString(1, model)) == 1;
    }

    /** Takes back {@link #markDeleting} after a delete that changed nothing. */
    public void unmarkDeleting(String model) {
        update("UPDATE models SET deleting = FALSE WHERE name = ?", ps -> ps.setString(1, model));
    }

    /**
     * Removes a model marked by {@link #markDeleting} and all its deployments, returning the ids removed; the events
     * stay. {@code beforeCommit} runs inside the transaction (its job: move or remove the files); if it throws,
     * nothing is removed.
     */
    public List<Long> deleteModel(String model, Runnable beforeCommit) {
        return inTransaction(c -> {
            List<Long> ids = new ArrayList<>();
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT deploy_id FROM deployments WHERE model = ? ORDER BY deploy_id FOR UPDATE")) {
                select.setString(1, model);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
            }
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM deployments WHERE model = ?")) {
                delete.setString(1, model);
                delete.executeUpdate();
            }
            try (PreparedStatement delete = c.prepareStatement(
                    "DELETE FROM models WHERE name = ? AND deleting = TRUE")) {
                delete.setString(1, model);
                if (delete.executeUpdate() != 1) {
                    throw new StaleState("model " + model + " is not marked for deletion");
                }
            }
            beforeCommit.run();
            return ids;
        });
    }

    /**
     * Records a model and one version found in a data folder whose database was lost ({@code serve --rebuild-db}):
     * the deployment keeps its folder's id and is STOPPED. Returns false when that id is already recorded.
     */
    public boolean rebuild(String model, long deployId, int version, String sha256, long size, String manifest,
                           Instant created) {
        return inTransaction(c -> {
            try (PreparedStatement exists = c.prepareStatement("SELECT 1 FROM deployments WHERE deploy_id = ?")) {
                exists.setLong(1, deployId);
                try (ResultSet rs = exists.executeQuery()) {
                    if (rs.next()) {
                        return false;
                    }
                }
            }
            try (PreparedStatement m = c.prepareStatement("SELECT 1 FROM models WHERE name = ?")) {
                m.setString(1, model);
                try (ResultSet rs = m.executeQuery()) {
                    if (!rs.next()) {
                        try (PreparedStatement insert = c.prepareStatement(
                                "INSERT INTO models (name, created) VALUES (?, ?)")) {
                            insert.setString(1, model);
                            insert.setTimestamp(2, Timestamp.from(created));
                            insert.executeUpdate();
                        }
                    }
                }
            }
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO deployments (deploy_id, model, version, state, sha256, size, manifest, created)"
                            + " VALUES (?, ?, ?, 'STOPPED', ?, ?, ?, ?)")) {
                insert.setLong(1, deployId);
                insert.setString(2, model);
                insert.setInt(3, version);
                insert.setString(4, sha256);
                insert.setLong(5, size);
                insert.setString(6, manifest);
                insert.setTimestamp(7, Timestamp.from(created));
                insert.executeUpdate();
            }
            return true;
        });
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
            listener.recording(model, version, deployId, VERSION_DELETED, message);
            return true;
        });
    }

    /** After {@link #rebuild}: each model's newest version becomes its active one; ids continue past the largest. */
    public void finishRebuild() {
        inTransaction(c -> {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE models SET active_deploy_id = (SELECT MAX(d.deploy_id) FROM deployments d"
                        + " WHERE d.model = models.name) WHERE active_deploy_id IS NULL");
                long next;
                try (ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(deploy_id), 0) + 1 FROM deployments")) {
                    rs.next();
                    next = rs.getLong(1);
                }
                s.execute("ALTER TABLE deployments ALTER COLUMN deploy_id RESTART WITH " + next);
            }
            return null;
        });
    }

    public void event(String model, Integer version, Long deployId, String kind, String message) {
        listener.recording(model, version, deployId, kind, message);
        update("INSERT INTO events (time, model, version, deploy_id, kind, message, node)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)",
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
                    ps.setString(7, node);
                });
    }

    /** The newest events first, of one model or (model null) of all. */
    public List<Event> events(String model, int limit) {
        String where = model == null ? "" : " WHERE model = ?";
        return query("SELECT id, time, model, version, deploy_id, kind, message, node FROM events" + where
                + " ORDER BY id DESC LIMIT ?", ps -> {
                    int i = 1;
                    if (model != null) {
                        ps.setString(i++, model);
                    }
                    ps.setInt(i, limit);
                }, rs -> new Event(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3),
                        (Integer) rs.getObject(4), (Long) rs.getObject(5), rs.getString(6), rs.getString(7),
                        rs.getString(8)));
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
        Connection c = null;
        try {
            c = dataSource.getConnection();
            List<T> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(mapper.map(rs));
                    }
                }
            }
            c.close();
            return rows;
        } catch (SQLException e) {
            StoreException failure = new StoreException(sql, e);
            if (failure.ourBug()) {
                closeQuietly(c);
            } else {
                evict(c);
            }
            throw failure;
        }
    }

    private int update(String sql, Binder binder) {
        Connection c = null;
        try {
            c = dataSource.getConnection();
            int count;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                count = ps.executeUpdate();
            }
            c.close();
            writeFault.set(null);
            return count;
        } catch (SQLException e) {
            throw writeFailed(sql, c, e);
        }
    }

    private <T> T inTransaction(Work<T> work) {
        Connection c = null;
        try {
            c = dataSource.getConnection();
            c.setAutoCommit(false);
            T result;
            try {
                result = work.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // the connection is broken; writeFailed evicts it
                }
            }
            c.close();
            writeFault.set(null);
            return result;
        } catch (SQLException e) {
            throw writeFailed("transaction", c, e);
        } catch (RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /**
     * A write failed: unless the database refused it for its content (a constraint, a lock), the storage is at
     * fault, so the store is not healthy until a write succeeds, and the connection leaves the pool (H2 closes a
     * database after a disk error; the next connection opens it again).
     */
    private StoreException writeFailed(String what, Connection c, SQLException e) {
        StoreException failure = new StoreException(what, e);
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (!state.startsWith("23") && !state.startsWith("40") && !failure.ourBug()) {
            writeFault.set(failure.reason());
            evict(c);
        } else {
            closeQuietly(c);
        }
        return failure;
    }

    /** Hands a failed connection back; the pool evicts it when H2 said the database is gone (Database.H2Faults). */
    private static void evict(Connection c) {
        closeQuietly(c);
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the caller's failure says why
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing more to do with it
        }
    }
}
