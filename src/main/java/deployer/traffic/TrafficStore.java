package deployer.traffic;

import deployer.core.DeployerException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The traffic splits and payload settings in the database (tables {@code traffic} and {@code payload_settings},
 * migration V6): plain JDBC, portable SQL (an update, else an insert, in one transaction: no MERGE).
 */
final class TrafficStore {

    private final DataSource dataSource;

    TrafficStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The model's split as stored; empty when it has none (all to the active version). */
    Optional<Split> split(String model) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT split, shadow_version, shadow_percent FROM traffic WHERE model = ?")) {
            ps.setString(1, model);
            try (ResultSet r = ps.executeQuery()) {
                if (!r.next()) {
                    return Optional.empty();
                }
                int shadowVersion = r.getInt(2);
                boolean hasShadow = !r.wasNull();
                int percent = r.getInt(3);
                return Optional.of(new Split(Split.weightsOf(r.getString(1)),
                        hasShadow ? new Split.Shadow(shadowVersion, percent) : null));
            }
        } catch (SQLException e) {
            throw failed("reading the traffic of " + model, e);
        }
    }

    /** Every model with a split stored. */
    List<String> modelsWithSplit() {
        List<String> models = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT model FROM traffic ORDER BY model");
             ResultSet r = ps.executeQuery()) {
            while (r.next()) {
                models.add(r.getString(1));
            }
        } catch (SQLException e) {
            throw failed("listing traffic splits", e);
        }
        return models;
    }

    void putSplit(String model, Split split) {
        if (split.isNone()) {
            deleteSplit(model);
            return;
        }
        Integer shadowVersion = split.shadow() == null ? null : split.shadow().version();
        Integer shadowPercent = split.shadow() == null ? null : split.shadow().percent();
        upsert("UPDATE traffic SET split = ?, shadow_version = ?, shadow_percent = ?, updated = ? WHERE model = ?",
                "INSERT INTO traffic (split, shadow_version, shadow_percent, updated, model) VALUES (?, ?, ?, ?, ?)",
                model, split.weightsText(), shadowVersion, shadowPercent);
    }

    void deleteSplit(String model) {
        delete("DELETE FROM traffic WHERE model = ?", model);
    }

    /** The payload settings set through the API, if any. */
    Optional<PayloadSettings> payloads(String model) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT sample, redact FROM payload_settings WHERE model = ?")) {
            ps.setString(1, model);
            try (ResultSet r = ps.executeQuery()) {
                if (!r.next()) {
                    return Optional.empty();
                }
                String redact = r.getString(2);
                return Optional.of(new PayloadSettings(r.getDouble(1), redact.isEmpty() ? List.of()
                        : Arrays.asList(redact.split(","))));
            }
        } catch (SQLException e) {
            throw failed("reading the payload settings of " + model, e);
        }
    }

    void putPayloads(String model, PayloadSettings settings) {
        upsert("UPDATE payload_settings SET sample = ?, redact = ?, updated = ? WHERE model = ?",
                "INSERT INTO payload_settings (sample, redact, updated, model) VALUES (?, ?, ?, ?)",
                model, settings.sample(), String.join(",", settings.redact()));
    }

    /** Runs the update; inserts when it changed no row. Both take the values, then the time, then the model. */
    private void upsert(String update, String insert, String model, Object... values) {
        try (Connection c = dataSource.getConnection()) {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                if (run(c, update, model, values) == 0) {
                    run(c, insert, model, values);
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        } catch (SQLException e) {
            throw failed("saving the traffic settings of " + model, e);
        }
    }

    private static int run(Connection c, String sql, String model, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            for (Object value : values) {
                if (value == null) {
                    ps.setNull(i++, java.sql.Types.INTEGER);
                } else {
                    ps.setObject(i++, value);
                }
            }
            ps.setTimestamp(i++, Timestamp.from(Instant.now()));
            ps.setString(i, model);
            return ps.executeUpdate();
        }
    }

    private void delete(String sql, String model) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, model);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw failed("deleting the traffic of " + model, e);
        }
    }

    private static DeployerException failed(String what, SQLException e) {
        // The SQL's own message stays in the cause (logged where it is handled), never in an answer.
        return new DeployerException(DeployerException.Kind.UNAVAILABLE, "the database failed " + what
                + "; retry shortly", e);
    }
}
