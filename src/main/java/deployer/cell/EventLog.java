package deployer.cell;

import deployer.store.EventListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log mirrored to the server log (logger {@code deployer.events}), so {@code deployer events} and a grep
 * of the log tell the same story; attached to the store by the composition root.
 */
public final class EventLog implements EventListener {

    private static final Logger EVENTS = LoggerFactory.getLogger("deployer.events");

    @Override
    public void recording(String model, Integer version, Long deployId, String kind, String message) {
        EVENTS.info("{}{} [{}] {}", model == null ? "-" : model, version == null ? "" : " v" + version, kind,
                message);
    }
}
