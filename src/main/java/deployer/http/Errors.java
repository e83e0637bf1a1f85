package deployer.http;

import deployer.core.DeployerException;
import deployer.core.OurBug;
import deployer.store.StaleState;
import deployer.store.StoreException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one table from failure to HTTP answer, for the API and the scoring path alike: a client that went away or
 * stalled answers 400/408 (logged at DEBUG, its doing); a {@link DeployerException} answers its kind's status with
 * its message; a lost race on a state answers 409; a failing database 503; anything else is our bug, logged once
 * here with a request id, and answered 500 with that id and never its text. Every call sends exactly one response.
 */
final class Errors {

    private static final Logger log = LoggerFactory.getLogger(Errors.class);

    private Errors() {
    }

    /** What one failure answers: its status, its message, and for our own bugs the id the log has it under. */
    record Answer(int status, String message, String requestId) {

        Map<String, Object> body() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", message);
            if (requestId != null) {
                body.put("request_id", requestId);
            }
            return body;
        }
    }

    /** Classifies {@code failure} and logs it where it is ours to log: once per failure, so call it once. */
    static Answer answer(Throwable failure) {
        if (isClientFault(failure)) {
            // The client went away, cut its body short or stalled: its doing, not a bug of ours.
            int status = isTimeout(failure) ? 408 : 400;
            log.debug("client fault, answered {}: {}", status, failure.toString());
            return new Answer(status, status == 408 ? "the request stopped arriving; send it whole"
                    : "the request ended early", null);
        }
        if (failure instanceof DeployerException known) {
            if (known.kind().status() == 500) {
                // A model's own failure: the client is told, the cell stays up; not a bug of ours.
                log.debug("answered 500: {}", known.getMessage());
            }
            return new Answer(known.kind().status(), known.getMessage(), null);
        }
        if (failure instanceof StaleState stale) {
            return new Answer(409, stale.getMessage(), null);
        }
        if (failure instanceof StoreException store && !store.ourBug()) {
            // The storage failed (a full disk, an I/O error): not the client's fault, nor a bug; readiness says so.
            log.warn("answered 503: {}", store.getMessage());
            return new Answer(503, "the server's database is failing (" + store.reason() + "); retry when GET"
                    + " /api/health answers 200", null);
        }
        // Our bug: the client gets an id to quote, never the exception's text or SQL; the log has the rest.
        OurBug bug = OurBug.log(log, failure);
        return new Answer(500, bug.message(), bug.requestId());
    }

    static void send(HttpServletResponse response, Throwable failure) {
        Answer answer = answer(failure);
        if (response.isCommitted()) {
            log.debug("cannot answer {} ({}): the response was already committed", answer.status(),
                    answer.message());
            return;
        }
        response.resetBuffer();
        if (answer.status() == 401) {
            response.setHeader("WWW-Authenticate", "Bearer realm=\"deployer\"");
        }
        if (answer.status() == 503) {
            response.setHeader("Retry-After", "1");
        }
        try {
            JsonResponse.send(response, answer.status(), answer.body());
        } catch (IOException e) {
            log.debug("client went away before its {} answer: {}", answer.status(), e.getMessage());
        }
    }

    /** A failure the client caused by going away, cutting its request short, or stalling past the idle timeout. */
    static boolean isClientFault(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.eclipse.jetty.io.EofException || t instanceof java.util.concurrent.TimeoutException
                    || t instanceof java.nio.channels.ClosedChannelException
                    || t instanceof org.eclipse.jetty.http.BadMessageException) {
                return true;
            }
        }
        return false;
    }

    /** An idle timeout: the client stopped sending. */
    static boolean isTimeout(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.util.concurrent.TimeoutException) {
                return true;
            }
        }
        return false;
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
}
