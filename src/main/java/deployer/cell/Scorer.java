package deployer.cell;

/**
 * Stage 3 as the scoring path calls it: one prepared input to its prediction, on the request's thread, between
 * {@code prepare} and {@code reply}. The plain scorer calls {@code Model.score}; a batcher (DESIGN 1.10) is another
 * scorer, that holds the input until it has company or its delay passes and answers from {@code scoreBatch}.
 */
@FunctionalInterface
interface Scorer {

    Object score(Object input) throws Exception;

    /** A request's {@code prepare} starts: it is on its way to {@link #score} (a batcher counts it as company). */
    default void arriving() {
    }

    /** A request that was {@link #arriving} will not reach {@link #score}: its {@code prepare} failed. */
    default void notArriving() {
    }
}
