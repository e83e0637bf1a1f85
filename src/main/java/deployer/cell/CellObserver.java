package deployer.cell;

/**
 * What the cells tell the rest of the server about their work, for metrics and statistics. Implementations are
 * called on hot paths and must not block.
 */
public interface CellObserver {

    /** Hears nothing. */
    CellObserver NONE = new CellObserver() {
    };

    /** Records one scoring request of one cell. */
    interface RequestMeter {
        RequestMeter NONE = (status, nanos) -> { };

        /** One request answered with {@code status} after {@code nanos}. */
        void record(int status, long nanos);

        /** One batch of {@code size} requests scored together; {@code waitedNanos} is each one's wait for it. */
        default void batch(int size, long[] waitedNanos) {
        }

        /** The cell is gone: its meters may go too. */
        default void close() {
        }
    }

    /** A cell of {@code model} version {@code version} was created; what it returns records its requests. */
    default RequestMeter cell(String model, int version) {
        return RequestMeter.NONE;
    }

    /** {@code load()} of a cell returned after {@code nanos}. */
    default void loaded(String model, int version, long nanos) {
    }

    /** A deploy, start, restart or activation ended READY or FAILED after {@code nanos}. */
    default void started(String model, boolean ready, long nanos) {
    }

    /** A ping of the health loop failed. */
    default void pingFailed(String model) {
    }

    /** One version was deleted (on request or by {@code --keep-versions}): its series may go now. */
    default void versionDeleted(String model, int version) {
    }

    /** A model was deleted with all its versions. */
    default void modelDeleted(String model) {
    }

    /** A serving cell was replaced by a fresh cell of the same version. */
    default void restarted(String model) {
    }
}
