package deployer.cell;

import deployer.core.Json;
import deployer.spi.Request;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** A scoring request handed to a model; the body is parsed as JSON at most once, on demand. */
public final class CellRequest implements Request {

    private static final Object UNPARSED = new Object();

    private final String contentType;
    private volatile byte[] body;
    private final Map<String, List<String>> headers;
    private volatile Object json = UNPARSED;
    /** Whether the route takes the model's JSON value rather than its bytes ({@link #answeredAsValue}). */
    private volatile boolean valueAnswer;

    /**
     * @param headers names in lower case; kept as given, so pass an unmodifiable map
     */
    public CellRequest(String contentType, byte[] body, Map<String, List<String>> headers) {
        this.contentType = contentType == null ? "" : contentType;
        this.body = body;
        this.headers = headers;
    }

    /**
     * A request carrying a JSON value already parsed (what a route such as the Open Inference Protocol made of its
     * own body): the model's {@code json()} is that value, and {@code body()} its JSON text, written only if asked.
     */
    public static CellRequest ofValue(Object value, Map<String, List<String>> headers) {
        CellRequest request = new CellRequest(CellResponse.JSON, null, headers);
        request.json = value;
        return request;
    }

    /**
     * A request whose {@link #json()} is already known: the body's meaning as Java values (an Open Inference
     * Protocol {@code infer}'s tensors as typed arrays), handed to the model without parsing the body again.
     */
    public CellRequest(String contentType, byte[] body, Map<String, List<String>> headers, Object parsed) {
        this(contentType, body, headers);
        this.json = parsed;
    }

    /**
     * The route reshapes the model's JSON value itself (the Open Inference Protocol): the reply is not written as
     * bytes for it ({@link CellResponse#body()} is null); {@code Call.json} writes it if the route needs it after all.
     */
    public CellRequest answeredAsValue() {
        valueAnswer = true;
        return this;
    }

    boolean wantsValue() {
        return valueAnswer;
    }

    /** A request carrying one JSON value, as the server sends a manifest's {@code health.sample}. */
    static CellRequest ofJson(Object value) {
        return new CellRequest(CellResponse.JSON, Json.writeString(value).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Map.of("content-type", List.of(CellResponse.JSON)));
    }

    @Override
    public String contentType() {
        return contentType;
    }

    @Override
    public byte[] body() {
        byte[] bytes = body;
        if (bytes == null) {
            bytes = Json.writeString(json).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            body = bytes;
        }
        return bytes;
    }

    @Override
    public Object json() {
        Object parsed = json;
        if (parsed == UNPARSED) {
            parsed = parse();
            json = parsed;
        }
        return parsed;
    }

    private Object parse() {
        if (body().length == 0) {
            throw new BadInputException("the request body is empty; send JSON, e.g. {\"features\": [1, 2]}");
        }
        try {
            return Json.parse(body);
        } catch (IOException e) {
            String reason = e instanceof com.fasterxml.jackson.core.JsonProcessingException p
                    ? p.getOriginalMessage() + locationOf(p) : e.getMessage();
            throw new BadInputException("the request body is not valid JSON: " + reason);
        }
    }

    private static String locationOf(com.fasterxml.jackson.core.JsonProcessingException e) {
        return e.getLocation() == null ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }

    @Override
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The request's {@code X-Request-Id}, for the access log; "-" when it has none. */
    public String requestId() {
        List<String> ids = headers.get("x-request-id");
        return ids == null || ids.isEmpty() ? "-" : ids.get(0);
    }

    /** The client's input was unusable; answered 400. Models see it as an {@link IllegalArgumentException}. */
    static final class BadInputException extends IllegalArgumentException {
        BadInputException(String message) {
            super(message);
        }
    }
}
