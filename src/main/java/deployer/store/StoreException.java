package deployer.store;

/** A database failure: our bug or a broken disk, never the user's input. */
public final class StoreException extends RuntimeException {

    StoreException(String what, Throwable cause) {
        super("database error in " + what + ": " + cause.getMessage(), cause);
    }
}
