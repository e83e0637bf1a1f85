package deployer.core;

import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A test hook for crash safety: {@code DEPLOYER_HALT_AT=<step>} (or {@code <step>@<version>}, to spare the versions a
 * restart brings back) makes the server {@code Runtime.halt} — as abrupt as {@code kill -9}: no shutdown hook, no
 * clean close — the first time a deploy reaches that step. The composition root reads the variable once at start
 * and hands this object to the parts that call {@link #reach}; without the variable it does nothing.
 */
public final class CrashPoints {

    /** Inside the insert transaction: the row exists but is not committed, the files are still in staging. */
    public static final String AFTER_INSERT = "after-insert";
    /** Inside the insert transaction: the files moved to {@code models/<name>/<id>/}, the row not committed. */
    public static final String AFTER_MOVE = "after-move";
    /** The row is committed and the files are in place; the client has no answer yet. */
    public static final String AFTER_COMMIT = "after-commit";
    /** The new cell's {@code load()} returned; it is not pinged yet. */
    public static final String AFTER_LOAD = "after-load";
    /** The new cell answered its pings (and sample); it is about to be swapped in. */
    public static final String BEFORE_SWAP = "before-swap";
    /** The new cell serves; the store still names the old version active. */
    public static final String AFTER_SWAP = "after-swap";
    /** The store names the new version active and READY; the old cell is not retired yet. */
    public static final String AFTER_ACTIVATE = "after-activate";

    public static final Set<String> STEPS = Set.of(AFTER_INSERT, AFTER_MOVE, AFTER_COMMIT, AFTER_LOAD, BEFORE_SWAP,
            AFTER_SWAP, AFTER_ACTIVATE);
    /** The status the process ends with at a crash point: told apart from a real failure in a test's assertion. */
    public static final int HALT_STATUS = 86;
    static final String VARIABLE = "DEPLOYER_HALT_AT";

    private static final Logger log = LoggerFactory.getLogger(CrashPoints.class);
    private static final CrashPoints NONE = new CrashPoints(null, 0);

    private final String step;
    private final int version;

    private CrashPoints(String step, int version) {
        this.step = step;
        this.version = version;
    }

    /** No crash anywhere: what every server runs with unless the variable is set. */
    public static CrashPoints none() {
        return NONE;
    }

    /** Reads {@code DEPLOYER_HALT_AT} from the environment. */
    public static CrashPoints fromEnvironment() {
        return parse(System.getenv(VARIABLE));
    }

    /**
     * @param spec {@code <step>} or {@code <step>@<version>}; null or empty for none
     * @throws IllegalArgumentException naming the variable and the steps, for an unknown step
     */
    static CrashPoints parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return NONE;
        }
        String[] parts = spec.trim().split("@", 2);
        if (!STEPS.contains(parts[0])) {
            throw new IllegalArgumentException(VARIABLE + ": " + spec + " is not a step; use one of "
                    + STEPS.stream().sorted().toList() + ", optionally with @<version>");
        }
        int version = 0;
        if (parts.length == 2) {
            try {
                version = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(VARIABLE + ": " + parts[1] + " is not a version number");
            }
        }
        log.warn("{}={}: this server will halt when a deploy reaches that step (a crash test)", VARIABLE, spec);
        return new CrashPoints(parts[0], version);
    }

    /** Halts the process here if this is the chosen step (and version); otherwise returns at once. */
    public void reach(String here, int deployVersion) {
        Objects.requireNonNull(here, "here");
        if (step != null && step.equals(here) && (version == 0 || version == deployVersion)) {
            System.err.println("deployer: " + VARIABLE + "=" + here + " reached at version " + deployVersion
                    + "; halting");
            System.err.flush();
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}
