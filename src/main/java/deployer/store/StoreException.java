package deployer.store;

import java.sql.SQLException;

/**
 * A database failure: a broken or full disk (the server answers 503 and recovers once writes succeed again), or,
 * for SQL the database cannot understand, our bug. The message names the statement for the log; {@link #reason()}
 * is what a client may read.
 */
public final class StoreException extends RuntimeException {

    private final boolean ourBug;

    StoreException(String what, Throwable cause) {
        super("database error in " + what + ": " + cause.getMessage(), cause);
        String state = cause instanceof SQLException sql ? sql.getSQLState() : null;
        // Class 42 is "syntax error or access rule violation": SQL that cannot run on any good day.
        this.ourBug = state != null && state.startsWith("42");
    }

    /** Whether this is a mistake in our SQL rather than a fault of the storage. */
    public boolean ourBug() {
        return ourBug;
    }

    /** The storage fault in a few words, without SQL: "No space left on device", "The database has been closed". */
    public String reason() {
        Throwable root = getCause();
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        // H2 appends the statement and its error code ("... [90098-232]"); neither helps the client.
        int statement = message.indexOf("; SQL statement:");
        if (statement > 0) {
            message = message.substring(0, statement);
        }
        return message.replaceAll("\\s*\\[\\d+-\\d+]$", "").lines().findFirst().orElse(message).trim();
    }
}
