package deployer.pack;

import java.io.IOException;

/**
 * Reading what the client sent failed: a cut-off upload, a malformed multipart body, a corrupt archive. Kept apart
 * from other {@link IOException}s because it is the client's fault (400), while failing to write to our own disk is
 * ours (500).
 */
final class ReadFailure extends IOException {

    private static final long serialVersionUID = 1L;

    ReadFailure(IOException cause) {
        super(cause.getMessage(), cause);
    }

    /** The failure's own words, or its type when it has none. */
    String reason() {
        Throwable cause = getCause();
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
