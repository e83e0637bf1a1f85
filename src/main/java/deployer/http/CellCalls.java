package deployer.http;

import deployer.DeployerException;
import deployer.cell.Answer;
import deployer.cell.CellRequest;
import deployer.cell.ModelSlot;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Scoring and health calls, the same whether they come on a cell's own port or through the main port. */
final class CellCalls {

    /** The largest scoring request body accepted. */
    static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
    /** How long {@code /health} waits for {@code Model.healthy()}. */
    static final long HEALTH_TIMEOUT_MS = 2_000;

    private CellCalls() {
    }

    static void predict(ModelSlot slot, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        Answer answer = slot.predict(read(request));
        response.setStatus(answer.status());
        response.setContentType(answer.contentType());
        response.setContentLength(answer.body().length);
        response.getOutputStream().write(answer.body());
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
        Errors.write(response, "UP".equals(health.get("status")) ? 200 : 503, health);
    }

    private static CellRequest read(HttpServletRequest request) throws IOException {
        long declared = request.getContentLengthLong();
        if (declared > MAX_BODY_BYTES) {
            throw tooLarge();
        }
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (body.length > MAX_BODY_BYTES) {
            throw tooLarge();
        }
        Map<String, List<String>> headers = new HashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name.toLowerCase(Locale.ROOT), List.copyOf(Collections.list(request.getHeaders(name))));
        }
        return new CellRequest(request.getContentType(), body, Collections.unmodifiableMap(headers));
    }

    private static DeployerException tooLarge() {
        return DeployerException.tooLarge("the request body is over " + (MAX_BODY_BYTES >> 20)
                + " MiB; send smaller batches");
    }
}
