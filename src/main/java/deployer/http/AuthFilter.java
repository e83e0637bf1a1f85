package deployer.http;

import deployer.DeployerException;
import deployer.DeployerException.Kind;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Lets an {@code /api/**} call through only with {@code Authorization: Bearer <token>}, compared in constant time, or
 * with the admin page's session cookie; a state-changing call made with the cookie must come from the page's own
 * origin ({@link SameOrigin}), or it is refused 403. {@link SessionServlet#PATH}, the login itself, passes unchecked.
 */
final class AuthFilter extends HttpFilter {

    private static final String PREFIX = "Bearer ";

    private final byte[] token;
    private final String tokenHint;
    private final SessionStore sessions;

    AuthFilter(String token, String tokenHint, SessionStore sessions) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.tokenHint = tokenHint;
        this.sessions = sessions;
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (SessionServlet.PATH.equals(request.getServletPath()) && request.getPathInfo() == null) {
            chain.doFilter(request, response);
            return;
        }
        String header = request.getHeader("Authorization");
        if (header == null && SessionCookie.read(request) != null) {
            bySession(request, response, chain);
            return;
        }
        if (header == null || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            Errors.send(response, new DeployerException(Kind.UNAUTHORIZED,
                    "this call needs the header 'Authorization: Bearer <token>' (" + tokenHint + ")"));
            return;
        }
        byte[] given = header.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token)) {
            Errors.send(response, new DeployerException(Kind.UNAUTHORIZED, "wrong token (" + tokenHint + ")"));
            return;
        }
        chain.doFilter(request, response);
    }

    private void bySession(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!sessions.valid(SessionCookie.read(request))) {
            Errors.send(response, new DeployerException(Kind.UNAUTHORIZED, "the session has ended: log in again,"
                    + " or send 'Authorization: Bearer <token>' (" + tokenHint + ")"));
            return;
        }
        if (SameOrigin.changesState(request.getMethod()) && !SameOrigin.allows(request)) {
            Errors.write(response, 403, Map.of("error", request.getMethod() + " with the session cookie must come from"
                    + " this server's own page (Origin or Sec-Fetch-Site says it did not); scripts send"
                    + " 'Authorization: Bearer <token>' instead"));
            return;
        }
        chain.doFilter(request, response);
    }
}
