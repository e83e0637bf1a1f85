package deployer.cell;

/**
 * Which version of a model one request goes to, asked again if the cell it named closed before the request got in
 * (a split changed under it): {@link #ACTIVE}, a version a traffic split rolled, or a version the client pinned.
 */
public interface VersionChoice {

    /** The model's active version, whatever its number. */
    int ACTIVE_VERSION = 0;

    /** Every request to the active version: what a model without a traffic split does. */
    VersionChoice ACTIVE = () -> ACTIVE_VERSION;

    /** The version to try now; {@link #ACTIVE_VERSION} for the active one. */
    int version();

    /** Whether the client asked for this version ({@code X-Deployer-Version}): then there is no other to fall to. */
    default boolean pinned() {
        return false;
    }

    /** The choice of a client that pinned {@code version}. */
    static VersionChoice pinned(int version) {
        return new VersionChoice() {
            @Override
            public int version() {
                return version;
            }

            @Override
            public boolean pinned() {
                return true;
            }
        };
    }
}
