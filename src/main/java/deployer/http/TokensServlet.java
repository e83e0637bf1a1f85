package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.store.Tokens;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /api/tokens} (admin only, {@link AuthFilter#needed}): {@code POST} {@code {"name","scope"}} makes a token
 * and answers it once; {@code GET} lists them without their values; {@code DELETE /api/tokens/{name}} revokes one;
 * {@code POST /api/tokens/admin/rotate} {@code {"grace": "10m"}} replaces the admin token, the old one working for
 * the grace period.
 */
final class TokensServlet extends HttpServlet {

    static final Duration DEFAULT_GRACE = Duration.ofMinutes(10);
    static final Duration MAX_GRACE = Duration.ofDays(30);
    private static final int MAX_BODY = 4096;
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(s|m|h|d)?");

    private final transient Tokens tokens;

    TokensServlet(Tokens tokens) {
        this.tokens = tokens;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        try {
            route(request, response);
        } catch (Exception e) {
            Errors.send(response, e);
        }
    }

    private void route(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "" : request.getPathInfo();
        String method = request.getMethod();
        if (path.isEmpty() || path.equals("/")) {
            switch (method) {
                case "GET" -> JsonResponse.send(response, 200, tokens.list().stream().map(TokensServlet::view).toList());
                case "POST" -> create(request, response);
                default -> throw new DeployerException(DeployerException.Kind.METHOD_NOT_ALLOWED,
                        "/api/tokens takes GET (list) and POST (create), not " + method);
            }
        } else if (path.equals("/admin/rotate")) {
            CellServlet.requireMethod(method, "POST", "/api/tokens/admin/rotate");
            rotate(request, response);
        } else if (path.indexOf('/', 1) < 0) {
            CellServlet.requireMethod(method, "DELETE", "/api/tokens/{name}");
            String name = path.substring(1);
            try {
                if (!tokens.revoke(name)) {
                    throw DeployerException.notFound("no token named " + Json.writeString(name)
                            + "; GET /api/tokens lists them");
                }
            } catch (IllegalArgumentException e) {
                throw DeployerException.badRequest(e.getMessage());
            }
            response.setStatus(204);
        } else {
            throw DeployerException.notFound("no such API path: /api/tokens" + path);
        }
    }

    private void create(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Map<?, ?> body = body(request, "{\"name\": \"ci\", \"scope\": \"deploy\"}");
        for (Object key : body.keySet()) {
            if (!key.equals("name") && !key.equals("scope")) {
                throw DeployerException.badRequest("unknown key " + Json.writeString(String.valueOf(key))
                        + " (a token takes name and scope)");
            }
        }
        Tokens.Created made;
        try {
            Tokens.checkName(body.get("name") instanceof String s ? s : null);
            made = tokens.create((String) body.get("name"),
                    Tokens.Scope.parse(body.get("scope") instanceof String s ? s : null));
        } catch (IllegalArgumentException e) {
            throw DeployerException.badRequest(e.getMessage());
        } catch (IllegalStateException e) {
            throw DeployerException.conflict(e.getMessage());
        }
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", made.name());
        view.put("scope", made.scope().text());
        view.put("token", made.token());
        view.put("note", "shown once: keep it now, it cannot be read again");
        response.setHeader("Cache-Control", "no-store");
        JsonResponse.send(response, 201, view);
    }

    private void rotate(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Map<?, ?> body = request.getContentLengthLong() == 0 ? Map.of() : body(request, "{\"grace\": \"10m\"}");
        Object given = body.get("grace");
        Duration grace = given == null ? DEFAULT_GRACE : grace(String.valueOf(given));
        Tokens.Created made = tokens.rotateAdmin(grace);
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", made.name());
        view.put("scope", made.scope().text());
        view.put("token", made.token());
        view.put("previous_valid_until", made.previousUntil().toString());
        response.setHeader("Cache-Control", "no-store");
        JsonResponse.send(response, 200, view);
    }

    /** {@code 600} (seconds), {@code 30s}, {@code 10m}, {@code 2h}, {@code 1d}; at most {@link #MAX_GRACE}. */
    static Duration grace(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw DeployerException.badRequest("grace " + Json.writeString(text) + " is not a duration like 600,"
                    + " 30s, 10m, 2h or 1d");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2) == null ? "s" : m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.compareTo(MAX_GRACE) > 0) {
            throw DeployerException.badRequest("grace " + text + " is longer than " + MAX_GRACE.toDays() + " days");
        }
        return d;
    }

    private static Map<?, ?> body(HttpServletRequest request, String example) throws IOException {
        byte[] bytes;
        try (InputStream in = request.getInputStream()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw DeployerException.tooLarge("a token call's body is at most " + MAX_BODY + " bytes");
        }
        try {
            if (Json.parse(bytes) instanceof Map<?, ?> map) {
                return map;
            }
        } catch (IOException e) {
            // answered below
        }
        throw DeployerException.badRequest("the body must be a JSON object like " + example);
    }

    private static Map<String, Object> view(Tokens.Info info) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", info.name());
        view.put("scope", info.scope().text());
        view.put("created", info.created().toString());
        view.put("expires", info.expires() == null ? null : info.expires().toString());
        return view;
    }
}
