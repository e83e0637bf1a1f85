package deployer.spi;

import java.util.ArrayList;
import java.util.List;

/**
 * A trained model served by one cell. The server creates one instance per cell and drives it through four stages:
 * {@link #load} once when the cell starts, then for every request {@link #prepare}, {@link #score} and
 * {@link #reply}. Calls to the per-request stages may come from several threads at once, so an implementation keeps
 * what {@code load} built read-only or guards it itself.
 *
 * <p>An implementation has a public no-argument constructor and is named by the manifest's {@code entry}, or by the
 * one line of {@code META-INF/services/deployer.spi.Model} in its jar.
 */
public interface Model extends AutoCloseable {

    /**
     * Stage 1: loads the model's artefacts, once per cell start, before any request arrives.
     *
     * @param context the cell's name, version, folder of unpacked files, manifest properties and logger; never null
     * @throws Exception any failure; the cell is then reported FAILED with the exception's message
     */
    void load(ModelContext context) throws Exception;

    /**
     * Stage 2: turns one HTTP request into the input {@link #score} takes. The default parses the body as JSON
     * ({@link Request#json()}). An {@link IllegalArgumentException} thrown here answers the client 400.
     *
     * @param request the request as received; never null
     * @return the input handed to {@link #score}
     * @throws Exception any failure
     */
    default Object prepare(Request request) throws Exception {
        return request.json();
    }

    /**
     * Stage 3: computes a prediction from one prepared input.
     *
     * @param input what {@link #prepare} returned
     * @return the prediction handed to {@link #reply}
     * @throws Exception any failure; the client gets a 500 that names the model
     */
    Object score(Object input) throws Exception;

    /**
     * Stage 3 for several requests at once, when the manifest asks for {@code "batching"}: the server gathers inputs
     * that arrive close together (each already through {@link #prepare}) and scores them in one call, which is what
     * makes a model whose cost is mostly per call (a native session, a BLAS call) serve many more requests. The
     * default scores them one by one with {@link #score}; override it to score them together.
     *
     * @param inputs what {@link #prepare} returned for each request, in arrival order; never null nor empty
     * @return one prediction per input, in the same order (each handed to {@link #reply} for its own request)
     * @throws Exception any failure; every request of the batch then gets a 500 that names the model
     */
    default List<Object> scoreBatch(List<Object> inputs) throws Exception {
        List<Object> predictions = new ArrayList<>(inputs.size());
        for (Object input : inputs) {
            predictions.add(score(input));
        }
        return predictions;
    }

    /**
     * Stage 4: turns a prediction into the reply sent to the client. The default sends it as JSON, which works for
     * the JDK types of {@link Request#json()}: {@code Map}, {@code List}, {@code String}, numbers, booleans, null.
     *
     * @param prediction what {@link #score} returned
     * @return the reply; never null
     * @throws Exception any failure
     */
    default Reply reply(Object prediction) throws Exception {
        return Reply.json(prediction);
    }

    /**
     * Tells whether the model can answer requests. The server asks on every health ping; {@code false} counts as a
     * failed ping. Keep it cheap: it must not block.
     *
     * @return true when the model can answer
     */
    default boolean healthy() {
        return true;
    }

    /**
     * Releases what {@link #load} took (files, native memory, threads). Called once when the cell is stopped,
     * retired or removed, after its in-flight requests have finished or its drain time has passed.
     *
     * @throws Exception any failure; it is logged and the cell is unloaded anyway
     */
    @Override
    default void close() throws Exception {
    }
}
