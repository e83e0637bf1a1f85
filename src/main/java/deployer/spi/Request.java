package deployer.spi;

import java.util.List;
import java.util.Map;

/** One scoring request as it reached the cell, handed to {@link Model#prepare}. */
public interface Request {

    /**
     * @return the request's {@code Content-Type}, e.g. {@code application/json}; empty when the client sent none
     */
    String contentType();

    /**
     * @return the raw request body; an empty array when there is none. Do not modify it.
     */
    byte[] body();

    /**
     * Parses the body as JSON into JDK types: object → {@code Map<String,Object>}, array → {@code List<Object>},
     * string → {@code String}, integer → {@code Long}, other number → {@code Double}, boolean → {@code Boolean},
     * null → {@code null}. The result is parsed once and shared by later calls.
     *
     * @return the parsed body
     * @throws IllegalArgumentException when the body is not valid JSON; the client then gets 400 with the reason
     */
    Object json();

    /**
     * @return the request headers, names in lower case, unmodifiable
     */
    Map<String, List<String>> headers();
}
