package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.cell.CellManager;
import deployer.cell.ModelSlot;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /models/{name}/health} on the main port, dispatched in-process to the model's active cell: the same code as
 * the cell's own port, without the network hop. {@code POST /models/{name}/predict} is scored before it gets here
 * ({@link ScoringHandler}); other methods on it are refused here.
 */
final class GatewayServlet extends HttpServlet {

    private final transient CellManager cells;

    GatewayServlet(CellManager cells) {
        this.cells = cells;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        try {
            String path = request.getPathInfo() == null ? "" : request.getPathInfo();
            String[] parts = path.split("/");
            if (parts.length != 3 || parts[1].isEmpty()) {
                throw DeployerException.notFound("no such path: /models" + path
                        + " (use /models/{name}/predict or /models/{name}/health)");
            }
            ModelSlot slot = cells.slot(parts[1]).orElseThrow(() -> DeployerException.notFound(
                    "no model named " + Json.writeString(parts[1]) + "; GET /api/models lists them"));
            switch (parts[2]) {
                case "predict" -> {
                    // POSTs are scored before they reach the servlets (ScoringHandler).
                    CellServlet.requireMethod(request.getMethod(), "POST", "/models/{name}/predict");
                    throw new IllegalStateException("POST /models/{name}/predict reached the servlet");
                }
                case "health" -> {
                    CellServlet.requireMethod(request.getMethod(), "GET", "/models/{name}/health");
                    CellCalls.health(slot, request, response);
                }
                default -> throw DeployerException.notFound("no such path: /models" + path
                        + " (use /models/{name}/predict or /models/{name}/health)");
            }
        } catch (Exception e) {
            Errors.send(response, e);
        }
    }
}
