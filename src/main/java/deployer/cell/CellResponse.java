package deployer.cell;

/**
 * A reply ready for the wire: status, content type and body bytes; {@code value} is the JSON value the body was
 * written from when the model answered {@code Reply.json} (null otherwise), so a route that reshapes the answer (the
 * Open Inference Protocol) need not parse the bytes back.
 */
public record CellResponse(int status, String contentType, byte[] body, Object value) {

    static final String JSON = "application/json";

    public CellResponse(int status, String contentType, byte[] body) {
        this(status, contentType, body, null);
    }
}
