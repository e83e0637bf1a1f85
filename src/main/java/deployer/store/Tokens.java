package deployer.store;

import deployer.core.Sha256;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's tokens: the admin token and named tokens with a {@link Scope}, kept as SHA-256 digests in the
 * {@code tokens} table (the token itself is shown once, when it is made, and never stored). Every check reads the
 * database, through a cache of at most {@value #CACHE_MS} ms that any change made here empties: a revoke is felt
 * at once on this server, and within that time on another one sharing the database.
 */
public final class Tokens {

    private static final Logger log = LoggerFactory.getLogger(Tokens.class);

    /** How long an answer of the database about one token is trusted before it is asked again. */
    public static final long CACHE_MS = 1000;
    /** The admin token's row; a rotated one becomes {@code admin@<epoch second>}. */
    public static final String ADMIN = "admin";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    /** What a token may do. Each scope covers those listed after it in {@link #covers}. */
    public enum Scope {
        /** Everything, tokens included. */
        ADMIN,
        /** Upload, activate, stop, start, restart, delete, traffic; and all that {@link #READ} may. */
        DEPLOY,
        /** {@code GET} on the API. */
        READ,
        /** Scoring, on the main port and the cell ports, when {@code --require-score-token} is set. */
        SCORE;

        /** Whether a token of this scope may make a call that needs {@code needed}. */
        public boolean covers(Scope needed) {
            return switch (this) {
                case ADMIN -> true;
                case DEPLOY -> needed == DEPLOY || needed == READ;
                case READ -> needed == READ;
                case SCORE -> needed == SCORE;
            };
        }

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @throws IllegalArgumentException naming the scopes there are */
        public static Scope parse(String text) {
            for (Scope s : values()) {
                if (s.text().equals(text)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("scope " + (text == null ? "(none)" : "'" + text + "'")
                    + " is not one of admin, deploy, read, score");
        }
    }

    /** Who a call comes from: a token's name and scope, never its value. */
    public record Principal(String name, Scope scope, Instant expires) {
    }

    /** One token as listed: everything but the token. */
    public record Info(String name, Scope scope, Instant created, Instant expires) {
    }

    /**
     * A token just made: {@code token} is shown once and never again; {@code previousUntil} is when the token it
     * replaced stops working (rotation only, else null).
     */
    public record Created(String name, Scope scope, String token, Instant previousUntil) {
    }

    private record Cached(Optional<Principal> principal, long fetchedNanos) {
    }

    private final DataSource dataSource;
    private final InstantSource clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final Consumer<String> adminRotated;

    public Tokens(DataSource dataSource, InstantSource clock) {
        this(dataSource, clock, token -> { });
    }

    /** @param adminRotated hears the new admin token after each rotation (to rewrite {@code admin.token}) */
    public Tokens(DataSource dataSource, InstantSource clock, Consumer<String> adminRotated) {
        this.dataSource = dataSource;
        this.clock = clock;
        this.adminRotated = adminRotated;
    }

    /**
     * Makes the admin token given at start ({@code --token} or {@code admin.token}) the admin row, unless it is
     * one that {@link #rotateAdmin} already replaced: that one opens nothing once its grace has passed, and this
     * says so in the log.
     *
     * @return false when the given token was rotated away
     */
    public boolean adopt(String configured) {
        String hash = hash(configured);
        Optional<Info> known = byHash(hash);
        if (known.isPresent()) {
            Info info = known.get();
            if (info.expires() != null && !info.expires().isAfter(clock.instant())) {
                log.warn("the admin token given at start was replaced by `deployer token rotate-admin` ({}): it no"
                        + " longer opens the API; use the token that call answered", info.name());
                return false;
            }
            return true;
        }
        inTransaction(c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM tokens WHERE name = ?")) {
                delete.setString(1, ADMIN);
                delete.executeUpdate();
            }
            insert(c, ADMIN, Scope.ADMIN, hash, null);
            return null;
        });
        cache.clear();
        return true;
    }

    /** The token's owner when it is known and not expired; what every authenticated call asks. */
    public Optional<Principal> authenticate(String token) {
        if (token == null || token.isEmpty() || token.length() > 512) {
            return Optional.empty();
        }
        String hash = hash(token);
        long now = System.nanoTime();
        Cached cached = cache.get(hash);
        Optional<Principal> principal;
        if (cached != null && now - cached.fetchedNanos() < CACHE_MS * 1_000_000) {
            principal = cached.principal();
        } else {
            principal = byHash(hash).map(i -> new Principal(i.name(), i.scope(), i.expires()));
            if (cache.size() > 10_000) {
                // Many wrong tokens: forget them all rather than grow.
                cache.clear();
            }
            cache.put(hash, new Cached(principal, now));
        }
        return principal.filter(p -> p.expires() == null || p.expires().isAfter(clock.instant()));
    }

    /** Whether {@code token} is a live admin token: what the admin page's login accepts. */
    public boolean isAdmin(String token) {
        return authenticate(token).map(p -> p.scope() == Scope.ADMIN).orElse(false);
    }

    /**
     * Makes a token named {@code name}.
     *
     * @throws IllegalArgumentException for a bad name
     * @throws IllegalStateException when the name is taken
     */
    public Created create(String name, Scope scope) {
        checkName(name);
        String token = newToken();
        Instant now = clock.instant();
        try (Connection c = dataSource.getConnection()) {
            if (exists(c, name)) {
                throw new IllegalStateException("a token named '" + name + "' exists; revoke it first, or pick"
                        + " another name");
            }
            insert(c, name, scope, hash(token), null);
        } catch (SQLException e) {
            if (e.getSQLState() != null && e.getSQLState().startsWith("23")) {
                throw new IllegalStateException("a token named '" + name + "' exists; revoke it first, or pick"
                        + " another name", e);
            }
            throw new StoreException("creating a token", e);
        }
        cache.clear();
        log.debug("token {} made at {}", name, now);
        return new Created(name, scope, token, null);
    }

    /** Every token, admin first then by name; never a token's value, nor its digest. */
    public List<Info> list() {
        List<Info> all = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT name, scope, created, expires FROM tokens ORDER BY name")) {
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    all.add(info(rs));
                }
            }
        } catch (SQLException e) {
            throw new StoreException("listing tokens", e);
        }
        return all;
    }

    /** Removes a named token; false when there is none. The admin token is replaced by rotation, not revoked. */
    public boolean revoke(String name) {
        if (ADMIN.equals(name)) {
            throw new IllegalArgumentException("the admin token is replaced with rotate-admin, not revoked");
        }
        if (name.startsWith(ADMIN + "@")) {
            // Kept so that a --token rotated away cannot come back at the next start (see adopt).
            throw new IllegalArgumentException("'" + name + "' is the record of a rotated admin token; it opens"
                    + " nothing once its grace has passed, and stays so the old token cannot come back");
        }
        int removed;
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM tokens WHERE name = ?")) {
            ps.setString(1, name);
            removed = ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("revoking a token", e);
        }
        cache.clear();
        return removed > 0;
    }

    /**
     * Replaces the admin token with a new one; the old one keeps working for {@code grace} (zero: not at all), as
     * a row {@code admin@<epoch second>} that expires then.
     */
    public Created rotateAdmin(Duration grace) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("the grace period cannot be negative");
        }
        String token = newToken();
        Instant now = clock.instant();
        Instant until = now.plus(grace);
        inTransaction(c -> {
            String retired = ADMIN + "@" + now.getEpochSecond();
            for (int n = 2; exists(c, retired); n++) {
                retired = ADMIN + "@" + now.getEpochSecond() + "." + n;
            }
            try (PreparedStatement old = c.prepareStatement(
                    "UPDATE tokens SET name = ?, expires = ? WHERE name = ?")) {
                old.setString(1, retired);
                old.setTimestamp(2, Timestamp.from(until));
                old.setString(3, ADMIN);
                old.executeUpdate();
            }
            insert(c, ADMIN, Scope.ADMIN, hash(token), null);
            return null;
        });
        cache.clear();
        adminRotated.accept(token);
        return new Created(ADMIN, Scope.ADMIN, token, until);
    }

    /** @throws IllegalArgumentException when {@code name} is not a token name */
    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("token name " + (name == null ? "(none)" : "'" + name + "'")
                    + " must be 1-63 of a-z 0-9 . _ - starting with a letter or digit");
        }
        if (ADMIN.equals(name)) {
            throw new IllegalArgumentException("'admin' is the admin token's own name; pick another");
        }
    }

    /** The SHA-256 of a token in hex: what the table keeps instead of the token. */
    public static String hash(String token) {
        return Sha256.hex(token);
    }

    private String newToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private Optional<Info> byHash(String hash) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT name, scope, created, expires FROM tokens WHERE sha256 = ?")) {
            ps.setString(1, hash);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(info(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StoreException("reading a token", e);
        }
    }

    private static Info info(ResultSet rs) throws SQLException {
        Timestamp expires = rs.getTimestamp(4);
        return new Info(rs.getString(1), Scope.parse(rs.getString(2)), rs.getTimestamp(3).toInstant(),
                expires == null ? null : expires.toInstant());
    }

    private static boolean exists(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM tokens WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private void insert(Connection c, String name, Scope scope, String hash, Instant expires) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO tokens (name, scope, sha256, created, expires) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, name);
            ps.setString(2, scope.text());
            ps.setString(3, hash);
            ps.setTimestamp(4, Timestamp.from(clock.instant()));
            ps.setTimestamp(5, expires == null ? null : Timestamp.from(expires));
            ps.executeUpdate();
        }
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
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
            throw new StoreException("tokens", e);
        }
    }
}
