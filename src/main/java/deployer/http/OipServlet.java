package deployer.http;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** The Open Inference Protocol under {@code /v2} on the main port, for every model. */
final class OipServlet extends HttpServlet {

    private final transient Oip oip;

    OipServlet(Oip oip) {
        this.oip = oip;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        try {
            oip.handle(request.getPathInfo() == null ? "" : request.getPathInfo(), null, request, response);
        } catch (Exception e) {
            Errors.send(response, e);
        }
    }
}
