package deployer.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Sessions in memory: random ids, a fixed lifetime on a clock the test turns, logout, and a ceiling. */
class SessionStoreTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-30T02:00:00Z"));
    private final InstantSource clock = now::get;
    private final SessionStore sessions = new SessionStore(Duration.ofHours(12), clock);

    @Test
    void anOpenedSessionIsValidUntilItsLifetimeEnds() {
        String id = sessions.open();

        assertThat(sessions.valid(id)).isTrue();
        now.set(now.get().plus(Duration.ofHours(12)).minusSeconds(1));
        assertThat(sessions.valid(id)).isTrue();
        now.set(now.get().plusSeconds(1));
        assertThat(sessions.valid(id)).isFalse();
        assertThat(sessions.size()).isZero();
    }

    @Test
    void closingEndsOnlyThatSession() {
        String mine = sessions.open();
        String yours = sessions.open();

        sessions.close(mine);

        assertThat(sessions.valid(mine)).isFalse();
        assertThat(sessions.valid(yours)).isTrue();
    }

    @Test
    void idsAreLongRandomAndUnknownOnesAreRefused() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            ids.add(sessions.open());
        }
        assertThat(ids).hasSize(100).allSatisfy(id -> assertThat(id).hasSize(43).matches("[A-Za-z0-9_-]+"));
        assertThat(sessions.valid(null)).isFalse();
        assertThat(sessions.valid("")).isFalse();
        assertThat(sessions.valid("not-a-session")).isFalse();
        assertThat(sessions.valid("x".repeat(10_000))).isFalse();
    }

    @Test
    void pastTheCeilingTheOldestSessionIsDropped() {
        String oldest = sessions.open();
        for (int i = 1; i < SessionStore.MAX_SESSIONS; i++) {
            now.set(now.get().plusMillis(1));
            sessions.open();
        }
        assertThat(sessions.valid(oldest)).isTrue();

        now.set(now.get().plusMillis(1));
        String newest = sessions.open();

        assertThat(sessions.size()).isEqualTo(SessionStore.MAX_SESSIONS);
        assertThat(sessions.valid(oldest)).isFalse();
        assertThat(sessions.valid(newest)).isTrue();
    }

    @Test
    void expiredSessionsAreSweptWhenAnotherOpens() {
        sessions.open();
        sessions.open();
        now.set(now.get().plus(Duration.ofDays(1)));

        sessions.open();

        assertThat(sessions.size()).isEqualTo(1);
    }
}
