package deployer.store;

import java.time.Instant;

/**
 * One replica's own view of one model: the version its cell serves (null: none), READY / STARTING / STOPPED, its
 * port, its health, its last ping, and when it said so.
 */
public record Replica(String node, String model, Integer version, String state, Integer port, boolean healthy,
                      Instant lastPing, Instant seen) {
}
