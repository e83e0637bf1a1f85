package deployer.cell;

/** A model as the metrics see it at one moment: its active version, state, health and load. */
public record ModelSnapshot(String model, Integer version, String state, boolean healthy, int inFlight) {
}
