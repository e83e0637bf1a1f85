package deployer.store;

import java.time.Instant;

/** One line of the audit log. */
public record Event(long id, Instant time, String model, Integer version, Long deployId, String kind,
                    String message) {
}
