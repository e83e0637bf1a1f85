package deployer.http;

import deployer.core.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The admin page's sessions, in memory: a session id is 32 random bytes, handed out once in the cookie and kept here
 * only as its SHA-256, so a lookup never compares the secret itself byte by byte; the digest found is then checked
 * again in constant time. Each session ends at a fixed time after login, or at logout; a server restart ends all.
 */
final class SessionStore {

    /** How long a login lasts. */
    static final Duration DEFAULT_LIFETIME = Duration.ofHours(12);
    /** Past this many live sessions the oldest is dropped: a logged-in page costs one, so this is generous. */
    static final int MAX_SESSIONS = 1000;

    private final Duration lifetime;
    private final InstantSource clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<Key, Instant> sessions = new ConcurrentHashMap<>();

    /** A digest as a map key; {@code equals} compares in constant time. */
    private record Key(byte[] digest) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key other && MessageDigest.isEqual(digest, other.digest);
        }

        @Override
        public int hashCode() {
            // The first four bytes of a SHA-256 are as good a hash as any, and leak nothing of the id.
            return (digest[0] & 0xff) << 24 | (digest[1] & 0xff) << 16 | (digest[2] & 0xff) << 8 | (digest[3] & 0xff);
        }
    }

    SessionStore(Duration lifetime, InstantSource clock) {
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("session lifetime must be positive, not " + lifetime);
        }
        this.lifetime = lifetime;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    Duration lifetime() {
        return lifetime;
    }

    /** Opens a session and returns its id, the cookie's value; the only time the id exists in full. */
    String open() {
        removeExpired();
        if (sessions.size() >= MAX_SESSIONS) {
            sessions.entrySet().stream().min(Map.Entry.comparingByValue())
                    .ifPresent(oldest -> sessions.remove(oldest.getKey()));
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        sessions.put(key(id), clock.instant().plus(lifetime));
        return id;
    }

    /** Whether {@code id} names a session that has not ended. */
    boolean valid(String id) {
        if (id == null || id.isEmpty() || id.length() > 100) {
            return false;
        }
        Key key = key(id);
        Instant expires = sessions.get(key);
        if (expires == null) {
            return false;
        }
        if (!clock.instant().isBefore(expires)) {
            sessions.remove(key, expires);
            return false;
        }
        return true;
    }

    /** Ends the session {@code id}, if there is one. */
    void close(String id) {
        if (id != null && !id.isEmpty() && id.length() <= 100) {
            sessions.remove(key(id));
        }
    }

    int size() {
        return sessions.size();
    }

    private void removeExpired() {
        Instant now = clock.instant();
        sessions.values().removeIf(expires -> !now.isBefore(expires));
    }

    private static Key key(String id) {
        return new Key(Sha256.of(id.getBytes(StandardCharsets.UTF_8)));
    }
}
