package deployer.cell;

import java.time.Instant;

/** What the health loop last saw of a model's serving cell. */
public record CellStatus(long deployId, boolean healthy, Instant lastPing) {
}
