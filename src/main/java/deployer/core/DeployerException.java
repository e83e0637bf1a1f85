package deployer.core;

/**
 * A failure the user can act on, typed by what went wrong. The HTTP layer turns each {@link Kind} into one status;
 * the message is shown to the user as it is, so it says what to fix.
 */
public class DeployerException extends RuntimeException {

    /** What kind of failure this is; each maps to exactly one HTTP status. */
    public enum Kind {
        BAD_REQUEST(400),
        UNAUTHORIZED(401),
        FORBIDDEN(403),
        NOT_FOUND(404),
        METHOD_NOT_ALLOWED(405),
        CONFLICT(409),
        TOO_LARGE(413),
        INSUFFICIENT_STORAGE(507),
        UNAVAILABLE(503),
        TIMEOUT(504),
        INTERNAL(500);

        private final int status;

        Kind(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Kind kind;

    public DeployerException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public DeployerException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static DeployerException badRequest(String message) {
        return new DeployerException(Kind.BAD_REQUEST, message);
    }

    public static DeployerException notFound(String message) {
        return new DeployerException(Kind.NOT_FOUND, message);
    }

    public static DeployerException conflict(String message) {
        return new DeployerException(Kind.CONFLICT, message);
    }

    public static DeployerException tooLarge(String message) {
        return new DeployerException(Kind.TOO_LARGE, message);
    }

    public static DeployerException unavailable(String message) {
        return new DeployerException(Kind.UNAVAILABLE, message);
    }
}
