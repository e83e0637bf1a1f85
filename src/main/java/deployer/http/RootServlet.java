package deployer.http;

import deployer.DeployerException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The main port's root: says what the server answers; any other unknown path is a JSON 404. */
final class RootServlet extends HttpServlet {

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        try {
            if (!request.getRequestURI().equals("/")) {
                throw DeployerException.notFound("no such path: " + request.getRequestURI());
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("service", "deployer");
            body.put("api", "/api/models (needs Authorization: Bearer <token>)");
            body.put("predict", "POST /models/{name}/predict");
            body.put("health", "GET /models/{name}/health");
            Errors.write(response, 200, body);
        } catch (DeployerException | IOException e) {
            Errors.send(response, e);
        }
    }
}
