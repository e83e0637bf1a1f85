package deployer.http;

import deployer.core.Json;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** Sends one JSON answer, success or error alike: status, content type, length, body. */
final class JsonResponse {

    private JsonResponse() {
    }

    static void send(HttpServletResponse response, int status, Object body) throws IOException {
        byte[] bytes = Json.write(body);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
