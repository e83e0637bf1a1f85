package deployer.http;

import deployer.core.DeployerException;
import deployer.cell.ModelSlot;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * A model's own port: {@code POST /predict} (also {@code POST /}), {@code GET /health}, and the Open Inference
 * Protocol under {@code /v2}.
 */
final class CellServlet extends HttpServlet {

    private final transient ModelSlot slot;
    private final transient Oip oip;

    /** {@code oip} answers the Open Inference Protocol under {@code /v2}; null leaves it out. */
    CellServlet(ModelSlot slot, Oip oip) {
        this.slot = slot;
        this.oip = oip;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        String path = request.getRequestURI();
        String method = request.getMethod();
        try {
            if (path.equals("/predict") || path.equals("/")) {
                // POSTs are scored before they reach the servlets (ScoringHandler).
                requireMethod(method, "POST", path);
                throw new IllegalStateException("POST " + path + " reached the servlet");
            } else if (path.equals("/health")) {
                requireMethod(method, "GET", path);
                CellCalls.health(slot, request, response);
            } else if (oip != null && (path.equals("/v2") || path.startsWith("/v2/"))) {
                oip.handle(path.substring(3), slot.name(), request, response);
            } else {
                throw DeployerException.notFound("no such path: " + path + " (this port of model " + slot.name()
                        + " answers POST /predict and GET /health)");
            }
        } catch (Exception e) {
            Errors.send(response, e);
        }
    }

    static void requireMethod(String method, String expected, String path) {
        if (!method.equals(expected) && !(expected.equals("GET") && method.equals("HEAD"))) {
            throw new DeployerException(DeployerException.Kind.METHOD_NOT_ALLOWED,
                    path + " takes " + expected + ", not " + method);
        }
    }
}
