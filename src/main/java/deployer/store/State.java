package deployer.store;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where a deployment is in its life, and where it may go next. The contract's arrows (DESIGN 1.2) are
 * {@code STARTING → READY | FAILED}, {@code READY → STOPPED → STARTING} and {@code READY → RETIRED}; the others
 * below are the ways out the server itself takes, each for one reason:
 * <ul>
 *   <li>{@code READY → STARTING}: a server restart brings a READY version back (its cell did not survive);</li>
 *   <li>{@code FAILED | RETIRED → STARTING}: {@code start} of a failed version, {@code activate} of a retired
 *       one;</li>
 *   <li>{@code STOPPED → RETIRED}: another version was activated while this one was stopped;</li>
 *   <li>{@code READY | STOPPED → FAILED}: its files are gone (found at start-up).</li>
 * </ul>
 * Every change is one compare-and-set in the {@link Store} ({@code UPDATE … WHERE state = ?}), checked against this
 * table first, so a racing caller loses with a reason instead of undoing another's work.
 */
public enum State {
    STARTING, READY, FAILED, STOPPED, RETIRED;

    /** The states this one may change to. */
    public Set<State> allowedNext() {
        return switch (this) {
            case STARTING -> EnumSet.of(READY, FAILED);
            case READY -> EnumSet.of(STOPPED, RETIRED, FAILED, STARTING);
            case STOPPED -> EnumSet.of(STARTING, RETIRED, FAILED);
            case FAILED -> EnumSet.of(STARTING);
            case RETIRED -> EnumSet.of(STARTING);
        };
    }

    /** Whether a change from this state to {@code next} is allowed. */
    public boolean canBecome(State next) {
        return allowedNext().contains(next);
    }
}
