package deployer.store;

/**
 * Told of each event {@link Store#event} records, as it records it: how the composition root mirrors the audit log
 * to the server log without the store doing more than store.
 */
@FunctionalInterface
public interface EventListener {

    /** Hears nothing. */
    EventListener NONE = (model, version, deployId, kind, message) -> {
    };

    /** The event about to be inserted; the arguments are {@link Store#event}'s. Must not throw. */
    void recording(String model, Integer version, Long deployId, String kind, String message);
}
