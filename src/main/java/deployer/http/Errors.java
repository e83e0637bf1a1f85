package deployer.http;

import deployer.DeployerException;
import deployer.Json;
import deployer.store.StaleState;
import deployer.store.StoreException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one table from failure to HTTP answer: a {@link DeployerException} answers its kind's status with its message;
 * anything else is our bug, logged once here and answered 500. Every call sends exactly one response.
 */
final class Errors {

    private static final Logger log = LoggerFactory.getLogger(Errors.class);

    private Errors() {
    }

    static void send(HttpServletResponse response, Throwable failure) {
        int status;
        String message;
        String requestId = null;
        if (failure instanceof DeployerException known) {
            status = known.kind().status();
            message = known.getMessage();
            if (status == 500) {
                // A model's own failure: the client is told, the cell stays up; not a bug of ours.
                log.debug("answered 500: {}", message);
            }
        } else if (failure instanceof StaleState stale) {
            status = 409;
            message = stale.getMessage();
        } else if (failure instanceof StoreException store && !store.ourBug()) {
            // The storage failed (a full disk, an I/O error): not the client's fault, nor a bug; readiness says so.
            status = 503;
            message = "the server's database is failing (" + store.reason() + "); retry when GET /api/health"
                    + " answers 200";
            log.warn("answered 503: {}", store.getMessage());
        } else {
            // Our bug: the client gets an id to quote, never the exception's text or SQL; the log has the rest.
            status = 500;
            requestId = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
            message = "internal error; the server's log has the details under request id " + requestId;
            log.error("internal error, request id {}", requestId, failure);
        }
        if (response.isCommitted()) {
            log.warn("cannot answer {} ({}): the response was already committed", status, message);
            return;
        }
        response.resetBuffer();
        if (status == 401) {
            response.setHeader("WWW-Authenticate", "Bearer realm=\"deployer\"");
        }
        try {
            write(response, status, requestId == null ? Map.of("error", message)
                    : Map.of("error", message, "request_id", requestId));
        } catch (IOException e) {
            log.debug("client went away before its {} answer: {}", status, e.getMessage());
        }
    }

    /** Whether a failure was a full disk (ENOSPC) anywhere in its causes. */
    static boolean diskFull(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
                return true;
            }
        }
        return false;
    }

    static void write(HttpServletResponse response, int status, Object body) throws IOException {
        byte[] bytes = Json.write(body);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
