package deployer.store;

import java.time.Instant;

/** One line of the audit log; {@code node} names the server that wrote it (null before replicas, or unnamed). */
public record Event(long id, Instant time, String model, Integer version, Long deployId, String kind,
                    String message, String node) {
}
