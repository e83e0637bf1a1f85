package deployer.store;

import java.time.Instant;
import java.util.Optional;

/**
 * One row of the change feed: a decision of kind {@code code} about {@code model}, made through server {@code node}.
 */
public record Change(long id, Instant time, String code, String model, String node) {

    /** The kind, or empty for one this server does not know (a newer replica wrote it). */
    public Optional<ChangeKind> kind() {
        return ChangeKind.of(code);
    }
}
