package deployer.http;

import deployer.DeployerException;
import deployer.Json;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
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
        if (isClientFault(failure)) {
            // The client went away, cut its body short or stalled: its doing, not a bug of ours.
            status = isTimeout(failure) ? 408 : 400;
            message = status == 408 ? "the request stopped arriving; send it whole" : "the request ended early";
            log.debug("client fault, answered {}: {}", status, failure.toString());
        } else if (failure instanceof DeployerException known) {
            status = known.kind().status();
            message = known.getMessage();
            if (status == 500) {
                // A model's own failure: the client is told, the cell stays up; not a bug of ours.
                log.debug("answered 500: {}", message);
            }
        } else {
            status = 500;
            message = "internal error: " + failure;
            log.error("internal error", failure);
        }
        if (response.isCommitted()) {
            log.debug("cannot answer {} ({}): the response was already committed", status, message);
            return;
        }
        response.resetBuffer();
        if (status == 401) {
            response.setHeader("WWW-Authenticate", "Bearer realm=\"deployer\"");
        }
        try {
            write(response, status, Map.of("error", message));
        } catch (IOException e) {
            log.debug("client went away before its {} answer: {}", status, e.getMessage());
        }
    }

    /** The status {@link #send} answers for {@code failure}. */
    static int status(Throwable failure) {
        if (isClientFault(failure)) {
            return isTimeout(failure) ? 408 : 400;
        }
        return failure instanceof DeployerException known ? known.kind().status() : 500;
    }

    /**
     * The message {@link #send} answers for {@code failure}; our own bugs are logged here, once, and answered
     * without their text.
     */
    static String message(Throwable failure) {
        if (failure instanceof DeployerException known) {
            return known.getMessage();
        }
        if (isClientFault(failure)) {
            return isTimeout(failure) ? "the request stopped arriving; send it whole" : "the request ended early";
        }
        String id = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
        log.error("internal error, request id {}", id, failure);
        return "internal error (id " + id + ")";
    }

    /** A failure the client caused by going away, cutting its request short, or stalling past the idle timeout. */
    static boolean isClientFault(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof org.eclipse.jetty.io.EofException || t instanceof java.util.concurrent.TimeoutException
                    || t instanceof java.nio.channels.ClosedChannelException
                    || t instanceof org.eclipse.jetty.http.BadMessageException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** An idle timeout: the client stopped sending. */
    static boolean isTimeout(Throwable failure) {
        for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof java.util.concurrent.TimeoutException) {
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
