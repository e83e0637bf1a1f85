package deployer.store;

import java.time.Duration;
import java.time.Instant;

/**
 * One replica's own view of one model: the version its cell serves (null: none), READY / STARTING / STOPPED (or
 * {@link #GONE} when its node stopped heart-beating), its port, its health, its last ping, and when its node was last
 * heard of ({@code seen}, the database's clock).
 */
public record Replica(String node, String model, Integer version, String state, Integer port, boolean healthy,
                      Instant lastPing, Instant seen) {

    /** The state shown for a node silent for {@link #GONE_AFTER}: its last view is not to be believed. */
    public static final String GONE = "GONE";
    /** How often a live replica says so ({@link Store#beat}). */
    public static final Duration BEAT = Duration.ofSeconds(2);
    /** Five missed beats: the node is shown gone. */
    public static final Duration GONE_AFTER = Duration.ofSeconds(10);
    /** A node silent this long has its rows deleted by the others. */
    public static final Duration PRUNE_AFTER = Duration.ofMinutes(10);
}
