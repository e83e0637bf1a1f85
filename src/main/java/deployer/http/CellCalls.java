package deployer.http;

import deployer.core.DeployerException;
import deployer.cell.ModelSlot;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;

/** Health calls, the same on a cell's own port and through the main port; scoring is {@link ScoringHandler}'s. */
final class CellCalls {

    /** How long {@code /health} waits for {@code Model.healthy()}. */
    static final long HEALTH_TIMEOUT_MS = 2_000;

    private CellCalls() {
    }

    static void health(ModelSlot slot, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        Long cell = null;
        String header = request.getHeader(ModelSlot.CELL_HEADER);
        if (header != null) {
            try {
                cell = Long.parseLong(header.trim());
            } catch (NumberFormatException e) {
                throw DeployerException.badRequest(ModelSlot.CELL_HEADER + " must be a deploy_id, not " + header);
            }
        }
        Map<String, Object> health = slot.health(cell, HEALTH_TIMEOUT_MS);
        JsonResponse.send(response, "UP".equals(health.get("status")) ? 200 : 503, health);
    }
}
