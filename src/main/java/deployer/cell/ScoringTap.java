package deployer.cell;

/**
 * Told of each scored request once its answer has been written to the client (shadow scoring, payload records).
 * It runs on the request's thread, so it must only hand the work on (a bounded queue) and return at once.
 */
public interface ScoringTap {

    /**
     * @param version  the version that answered
     * @param request  what the model was given
     * @param answer   what the model answered (before a route reshaped it)
     * @param status   the status the client was sent
     * @param sent     the body the client was sent
     * @param nanos    from admission to the answer
     */
    void answered(int version, CellRequest request, CellResponse answer, int status, byte[] sent, long nanos);
}
