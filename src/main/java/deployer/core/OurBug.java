package deployer.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;

/**
 * A failure that is a bug of ours, as every place that answers one answers it: logged once, at ERROR, under a
 * request id the client can quote; the client gets the id and never the exception's text.
 */
public record OurBug(String requestId) {

    /** Logs {@code failure} on {@code log} under a fresh id. Call it once per failure. */
    public static OurBug log(Logger log, Throwable failure) {
        String id = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        log.error("internal error, request id {}", id, failure);
        return new OurBug(id);
    }

    /** What the client is told. */
    public String message() {
        return "internal error; the server's log has the details under request id " + requestId;
    }

    /** The JSON answer: {@code {"error", "request_id"}}. */
    public Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message());
        body.put("request_id", requestId);
        return body;
    }
}
