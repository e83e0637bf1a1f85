package deployer.cell;

import com.fasterxml.jackson.databind.ObjectMapper;
import deployer.core.DeployerException;
import deployer.core.DeployerException.Kind;
import deployer.core.Json;
import deployer.spi.Model;
import deployer.spi.Reply;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model's per-request stages — prepare, score, reply — and the reply written as JSON, with every failure turned
 * into the answer the client gets: 400 for input the model rejected, 500 naming the model and the stage otherwise.
 */
final class Stages {

    private static final Logger log = LoggerFactory.getLogger(Stages.class);

    private final CellId id;
    private final Model model;
    private final Scorer scorer;
    // Serializers Jackson builds for a model's own reply types are cached by class: a mapper per cell lets them
    // go with the cell instead of pinning its class loader in a shared cache.
    private final ObjectMapper json = primed(Json.mapper().copy());

    Stages(CellId id, Model model) {
        this(id, model, model::score);
    }

    /** With {@code scorer} in place of {@code Model.score}: the seam a batcher plugs into. */
    Stages(CellId id, Model model, Scorer scorer) {
        this.id = id;
        this.model = model;
        this.scorer = scorer;
    }

    /** Stages 2 to 4 for one request, on the calling thread (a cell worker). */
    CellResponse run(CellRequest request) {
        Object input;
        boolean prepared = false;
        scorer.arriving();
        try {
            input = model.prepare(request);
            prepared = true;
        } catch (IllegalArgumentException e) {
            throw DeployerException.badRequest(e instanceof CellRequest.BadInputException ? e.getMessage()
                    : "model " + id + " rejected the input: " + e.getMessage());
        } catch (Throwable t) {
            throw failed("prepare", t);
        } finally {
            if (!prepared) {
                scorer.notArriving();
            }
        }
        Object prediction;
        try {
            prediction = scorer.score(input);
        } catch (CellRequest.BadInputException e) {
            throw DeployerException.badRequest(e.getMessage());
        } catch (Throwable t) {
            throw failed("score", t);
        }
        Reply reply;
        try {
            reply = model.reply(prediction);
        } catch (Throwable t) {
            throw failed("reply", t);
        }
        if (reply == null) {
            throw new DeployerException(Kind.INTERNAL, "model " + id + " failed in reply: it returned null");
        }
        if (reply.status() < 200 || reply.status() > 599) {
            // A 1xx is not a final answer: the client would be left waiting for one.
            throw new DeployerException(Kind.INTERNAL, "model " + id + " failed in reply: status " + reply.status()
                    + " is not a final HTTP status (use 200-599)");
        }
        if (!reply.isJson()) {
            return new CellResponse(reply.status(), reply.contentType(), reply.body());
        }
        if (request.wantsValue()) {
            // The route reshapes the value (the Open Inference Protocol): writing it here would be thrown away.
            return new CellResponse(reply.status(), reply.contentType(), null, reply.value());
        }
        return new CellResponse(reply.status(), reply.contentType(), json(reply.value()), reply.value());
    }

    /** {@code value} as JSON, written by this cell's own mapper (serializers of the model's classes stay with it). */
    byte[] json(Object value) {
        try {
            return json.writeValueAsBytes(value);
        } catch (IOException | RuntimeException e) {
            throw new DeployerException(Kind.INTERNAL, "model " + id
                    + " returned a value that cannot be written as JSON (use Map, List, String, numbers,"
                    + " booleans): " + Cell.describe(e));
        }
    }

    private DeployerException failed(String stage, Throwable t) {
        log.warn("{} - {} failed: {}", id, stage, ModelTrace.describe(t));
        return ModelTrace.failure(Kind.INTERNAL, "model " + id + " failed in " + stage + ": " + Cell.describe(t), t);
    }

    /**
     * A fresh mapper has no serializer yet: right after a hot swap, the first requests on the new cell — one per
     * connection, all at once — would each build the serializers of the JDK types replies are made of, and wait
     * tens of milliseconds (the p99 of benchmark row 3). Built once here, before the cell takes any request.
     */
    private static ObjectMapper primed(ObjectMapper mapper) {
        Map<String, Object> map = new HashMap<>(Map.of("k", 1.0));
        Map<String, Object> linked = new LinkedHashMap<>(Map.of("k", 1L));
        Object sample = List.of(Map.of("a", 1.0), Map.of("a", 1L, "b", "s"), map, linked,
                List.of(1.0), List.of(1, 2L, 3.0f), new ArrayList<>(List.of(true)),
                Arrays.asList("s", null), new double[] {1}, new float[] {1}, new long[] {1}, new int[] {1},
                new String[] {"s"}, Collections.emptyMap(), Collections.emptyList());
        try {
            mapper.writeValueAsBytes(sample);
        } catch (IOException e) {
            log.debug("priming the cell's JSON mapper failed: {}", e.toString());
        }
        return mapper;
    }
}
