package deployer.store;

import java.util.Locale;
import java.util.Optional;

/**
 * What replicas follow through the change feed ({@link Changes}): each kind names a decision made through one server
 * that every server then applies to its own cells. A new kind is one more constant; a server that does not know it
 * skips it (its sweep still reconciles the rows).
 */
public enum ChangeKind {
    UPLOAD,
    ACTIVATE,
    STOP,
    START,
    RESTART,
    DELETE,
    /**
     * A model's traffic split, shadow or payload settings changed (DESIGN 1.11): replicas reload its route and start
     * what it names.
     */
    TRAFFIC;

    /** The kind as the {@code changes} table keeps it. */
    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind of a stored code; empty for one this server does not know (written by a newer replica). */
    public static Optional<ChangeKind> of(String code) {
        for (ChangeKind k : values()) {
            if (k.code().equals(code)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
