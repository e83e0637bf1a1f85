package deployer.store;

/**
 * A compare-and-set in the store found the row changed under it: another caller got there first. The message says
 * what the row is now; the HTTP layer answers it 409.
 */
public final class StaleState extends RuntimeException {

    public StaleState(String message) {
        super(message);
    }
}
