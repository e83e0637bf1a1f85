package deployer.http;

import deployer.DeployerException;
import deployer.cell.ModelSlot;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** A model's own port: {@code POST /predict} (also {@code POST /}) and {@code GET /health}. */
final class CellServlet extends HttpServlet {

    private final transient ModelSlot slot;

    CellServlet(ModelSlot slot) {
        this.slot = slot;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        String path = request.getRequestURI();
        String method = request.getMethod();
        try {
            if (path.equals("/predict") || path.equals("/")) {
                requireMethod(method, "POST", path);
                CellCalls.predict(slot, request, response);
            } else if (path.equals("/health")) {
                requireMethod(method, "GET", path);
                CellCalls.health(slot, request, response);
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
