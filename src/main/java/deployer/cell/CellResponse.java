package deployer.cell;

import java.util.Map;

/**
 * A reply ready for the wire: status, content type and body bytes; {@code value} is the JSON value the body was
 * written from when the model answered {@code Reply.json} (null otherwise), so a route that reshapes the answer (the
 * Open Inference Protocol) need not parse the bytes back; {@code headers} are what the answer needs sent beside its
 * content type (the protocol's {@code Inference-Header-Content-Length}), none for a model's own reply.
 */
public record CellResponse(int status, String contentType, byte[] body, Object value, Map<String, String> headers) {

    static final String JSON = "application/json";

    public CellResponse(int status, String contentType, byte[] body) {
        this(status, contentType, body, null, Map.of());
    }

    public CellResponse(int status, String contentType, byte[] body, Object value) {
        this(status, contentType, body, value, Map.of());
    }
}
