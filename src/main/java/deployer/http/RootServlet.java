package deployer.http;

import deployer.core.DeployerException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** The main port's root: the admin page at {@code /} and its files; any other unknown path is a JSON 404. */
final class RootServlet extends HttpServlet {

    private final transient AdminAssets assets;

    RootServlet(AdminAssets assets) {
        this.assets = assets;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        try {
            AdminAssets.Asset asset = assets.get(request.getRequestURI()).orElseThrow(
                    () -> DeployerException.notFound("no such path: " + request.getRequestURI()));
            String method = request.getMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                throw new DeployerException(DeployerException.Kind.METHOD_NOT_ALLOWED,
                        request.getRequestURI() + " takes GET, not " + method);
            }
            send(request, response, asset);
        } catch (DeployerException | IOException e) {
            Errors.send(response, e);
        }
    }

    private static void send(HttpServletRequest request, HttpServletResponse response, AdminAssets.Asset asset)
            throws IOException {
        response.setHeader("Content-Security-Policy", AdminAssets.CONTENT_SECURITY_POLICY);
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("Referrer-Policy", "no-referrer");
        // Always revalidated, so a new jar's page is seen at once; the ETag makes that a 304.
        response.setHeader("Cache-Control", "no-cache");
        response.setHeader("ETag", asset.etag());
        if (asset.etag().equals(request.getHeader("If-None-Match"))) {
            response.setStatus(304);
            return;
        }
        response.setStatus(200);
        response.setContentType(asset.contentType());
        response.setContentLength(asset.bytes().length);
        if (request.getMethod().equals("GET")) {
            response.getOutputStream().write(asset.bytes());
        }
    }
}
