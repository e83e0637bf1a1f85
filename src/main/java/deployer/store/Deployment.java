package deployer.store;

import java.time.Instant;

/** One upload (one version of a model) as recorded. */
public record Deployment(long deployId, String model, int version, State state, Integer port, String sha256,
                         long size, String manifest, Instant created, Instant readyAt, int attempts, String error,
                         int restarts) {
}
