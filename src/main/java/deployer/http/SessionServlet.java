package deployer.http;

import deployer.core.DeployerException;
import deployer.core.DeployerException.Kind;
import deployer.core.Json;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * {@code /api/session}, the admin page's login: {@code POST} with the token (JSON {@code {"token": …}} or a form
 * field {@code token}) sets the session cookie; {@code DELETE} logs out; {@code GET} says whether the cookie is
 * good. The token travels in the body only, never in a URL. {@link AuthFilter} lets this path through unchecked.
 */
final class SessionServlet extends HttpServlet {

    static final String PATH = "/api/session";
    /** A token is a few dozen characters; a body larger than this is not a login. */
    private static final int MAX_BODY = 4096;

    private final transient SessionStore sessions;
    /** Whether a token is a live admin token ({@code Tokens#isAdmin}): rotated, the old one stops opening the page. */
    private final transient Predicate<String> isAdmin;
    private final String tokenHint;

    SessionServlet(SessionStore sessions, Predicate<String> isAdmin, String tokenHint) {
        this.sessions = sessions;
        this.isAdmin = isAdmin;
        this.tokenHint = tokenHint;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        try {
            switch (request.getMethod()) {
                case "GET" -> status(request, response);
                case "POST" -> login(request, response);
                case "DELETE" -> logout(request, response);
                default -> throw new DeployerException(Kind.METHOD_NOT_ALLOWED,
                        PATH + " takes GET, POST (log in) and DELETE (log out), not " + request.getMethod());
            }
        } catch (Exception e) {
            Errors.send(response, e);
        }
    }

    private void status(HttpServletRequest request, HttpServletResponse response) throws IOException {
        JsonResponse.send(response, 200, Map.of("logged_in", sessions.valid(SessionCookie.read(request))));
    }

    private void login(HttpServletRequest request, HttpServletResponse response) throws IOException {
        // A login from another site's page would not steal anything, but it has no business here either.
        if (fromAnotherSite(request)) {
            JsonResponse.send(response, 403, Map.of("error", "a login must come from this server's own page"));
            return;
        }
        String given = givenToken(request);
        if (given == null || given.isEmpty()) {
            throw DeployerException.badRequest("send the admin token as {\"token\": \"…\"} or the form field token");
        }
        if (!isAdmin.test(given.trim())) {
            throw new DeployerException(Kind.UNAUTHORIZED, "wrong token (" + tokenHint + ")");
        }
        sessions.close(SessionCookie.read(request));
        String id = sessions.open();
        long seconds = sessions.lifetime().toSeconds();
        SessionCookie.set(request, response, id, seconds);
        response.setHeader("Cache-Control", "no-store");
        if (isForm(request)) {
            // The page's form, posted without JavaScript: back to the page, now logged in.
            response.setStatus(303);
            response.setHeader("Location", "/");
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("logged_in", true);
        body.put("expires_in_s", seconds);
        JsonResponse.send(response, 200, body);
    }

    private void logout(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String id = SessionCookie.read(request);
        if (id != null && sessions.valid(id) && !SameOrigin.allows(request)) {
            JsonResponse.send(response, 403, Map.of("error", "a logout must come from this server's own page"));
            return;
        }
        sessions.close(id);
        SessionCookie.clear(request, response);
        response.setStatus(204);
    }

    private static boolean fromAnotherSite(HttpServletRequest request) {
        String site = request.getHeader("Sec-Fetch-Site");
        if (site != null && !site.trim().equalsIgnoreCase("same-origin") && !site.trim().equalsIgnoreCase("none")) {
            return true;
        }
        String origin = request.getHeader("Origin");
        return origin != null && !SameOrigin.allows(request);
    }

    private static boolean isForm(HttpServletRequest request) {
        String type = request.getContentType();
        return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded");
    }

    private static String givenToken(HttpServletRequest request) throws IOException {
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes(MAX_BODY + 1);
        }
        if (body.length > MAX_BODY) {
            throw DeployerException.tooLarge("a login body is at most " + MAX_BODY + " bytes");
        }
        if (isForm(request)) {
            return formField(new String(body, StandardCharsets.UTF_8));
        }
        Object parsed;
        try {
            parsed = Json.parse(body);
        } catch (IOException e) {
            throw DeployerException.badRequest("the login body is not JSON: send {\"token\": \"…\"}");
        }
        if (parsed instanceof Map<?, ?> map && map.get("token") instanceof String text) {
            return text;
        }
        return null;
    }

    private static String formField(String form) {
        try {
            return FormFields.first(form, "token");
        } catch (IllegalArgumentException e) {
            throw DeployerException.badRequest("the login form is not valid URL encoding: " + e.getMessage());
        }
    }
}
