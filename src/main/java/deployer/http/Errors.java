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
        if (failure instanceof DeployerException known) {
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
            log.warn("cannot answer {} ({}): the response was already committed", status, message);
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

    static void write(HttpServletResponse response, int status, Object body) throws IOException {
        byte[] bytes = Json.write(body);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
