package deployer;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.awaitility.Awaitility;

/** Waits on a condition with a deadline, never on the clock alone. */
final class Eventually {

    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Eventually() {
    }

    /** Polls {@code value} until {@code done} holds, and returns that value. */
    static <T> T get(Supplier<T> value, Predicate<T> done) {
        return get(value, done, DEADLINE);
    }

    /** Polls {@code value} until {@code done} holds, for at most {@code atMost}, and returns that value. */
    static <T> T get(Supplier<T> value, Predicate<T> done, Duration atMost) {
        AtomicReference<T> last = new AtomicReference<>();
        Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(50)).until(() -> {
            T v = value.get();
            last.set(v);
            return done.test(v);
        });
        return last.get();
    }
}
