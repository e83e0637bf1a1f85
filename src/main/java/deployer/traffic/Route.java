package deployer.traffic;

import deployer.cell.VersionChoice;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * One immutable snapshot of where a model's requests go: versions with cumulative weights out of 100, what is left
 * to the active version. A split change builds a new one and swaps it in by reference, so a request reads either the
 * old or the new, never half of each.
 */
final class Route {

    static final Route ACTIVE = new Route(new int[0], new int[0]);

    private final int[] versions;
    /** {@code upTo[i]}: a roll below it (and at or above {@code upTo[i - 1]}) goes to {@code versions[i]}. */
    private final int[] upTo;

    private Route(int[] versions, int[] upTo) {
        this.versions = versions;
        this.upTo = upTo;
    }

    /** The route of {@code weights}, the share of every version in {@code down} given to the active version. */
    static Route of(Map<Integer, Integer> weights, Set<Integer> down) {
        int n = 0;
        for (Map.Entry<Integer, Integer> e : weights.entrySet()) {
            if (e.getValue() > 0 && !down.contains(e.getKey())) {
                n++;
            }
        }
        if (n == 0) {
            return ACTIVE;
        }
        int[] versions = new int[n];
        int[] upTo = new int[n];
        int i = 0;
        int sum = 0;
        for (Map.Entry<Integer, Integer> e : weights.entrySet()) {
            if (e.getValue() > 0 && !down.contains(e.getKey())) {
                sum += e.getValue();
                versions[i] = e.getKey();
                upTo[i++] = sum;
            }
        }
        return new Route(versions, upTo);
    }

    /** The version for a roll in 0-99; {@link VersionChoice#ACTIVE_VERSION} for the active version's share. */
    int pick(int roll) {
        for (int i = 0; i < upTo.length; i++) {
            if (roll < upTo[i]) {
                return versions[i];
            }
        }
        return VersionChoice.ACTIVE_VERSION;
    }

    int pick(RandomGenerator random) {
        return versions.length == 0 ? VersionChoice.ACTIVE_VERSION : pick(random.nextInt(100));
    }

    boolean isActiveOnly() {
        return versions.length == 0;
    }
}
