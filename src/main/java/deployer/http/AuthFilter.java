package deployer.http;

import deployer.core.DeployerException;
import deployer.core.DeployerException.Kind;
import deployer.store.Store;
import deployer.store.Tokens;
import deployer.store.Tokens.Principal;
import deployer.store.Tokens.Scope;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets an {@code /api/**} call through only with {@code Authorization: Bearer <token>} of a token whose scope covers
 * the call ({@link #needed}), or with the admin page's session cookie (which is an admin's); a state-changing call
 * made with the cookie must come from the page's own origin ({@link SameOrigin}), or it is refused 403. A token of
 * too narrow a scope is refused 403 naming the scope the call needs. Every call that changes something is written
 * to the audit log with the name (never the value) of the token behind it. {@link SessionServlet#PATH}, the login
 * itself, passes unchecked.
 */
final class AuthFilter extends HttpFilter {

    private static final Logger log = LoggerFactory.getLogger(AuthFilter.class);
    private static final String PREFIX = "Bearer ";
    /** The request attribute that holds the {@link Principal} of an authenticated call. */
    static final String PRINCIPAL = "deployer.principal";
    private static final Principal SESSION = new Principal("admin page session", Scope.ADMIN, null);

    private final Tokens tokens;
    private final String tokenHint;
    private final SessionStore sessions;
    private final Store audit;

    AuthFilter(Tokens tokens, String tokenHint, SessionStore sessions, Store audit) {
        this.tokens = tokens;
        this.tokenHint = tokenHint;
        this.sessions = sessions;
        this.audit = audit;
    }

    /**
     * The scope a call needs: {@code admin} for {@code /api/tokens}; {@code read} for a {@code GET}, but
     * {@code deploy} for what hands out code or recorded traffic (a version's package, a model's payloads);
     * {@code deploy} for every other method.
     */
    static Scope needed(String method, String path) {
        if (path.equals("/api/tokens") || path.startsWith("/api/tokens/")) {
            return Scope.ADMIN;
        }
        if (method.equals("GET") || method.equals("HEAD")) {
            return path.endsWith("/package") || path.endsWith("/payloads") ? Scope.DEPLOY : Scope.READ;
        }
        return Scope.DEPLOY;
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
        Principal principal;
        try {
            principal = tokens.authenticate(header.substring(PREFIX.length()).trim()).orElse(null);
        } catch (RuntimeException e) {
            // The token store is the database: when it fails, the call is answered by the one error table (503
            // for a failing database, 500 with a request id for a bug), never with the exception's text.
            Errors.send(response, e);
            return;
        }
        if (principal == null) {
            Errors.send(response, new DeployerException(Kind.UNAUTHORIZED, "wrong token (" + tokenHint + ")"));
            return;
        }
        Scope needed = needed(request.getMethod(), request.getRequestURI());
        if (!principal.scope().covers(needed)) {
            Errors.send(response, new DeployerException(Kind.FORBIDDEN, request.getMethod() + " "
                    + request.getRequestURI() + " needs a token with scope " + needed.text() + "; token '"
                    + principal.name() + "' has scope " + principal.scope().text()));
            return;
        }
        pass(principal, request, response, chain);
    }

    private void bySession(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!sessions.valid(SessionCookie.read(request))) {
            Errors.send(response, new DeployerException(Kind.UNAUTHORIZED, "the session has ended: log in again,"
                    + " or send 'Authorization: Bearer <token>' (" + tokenHint + ")"));
            return;
        }
        if (SameOrigin.changesState(request.getMethod()) && !SameOrigin.allows(request)) {
            JsonResponse.send(response, 403, Map.of("error", request.getMethod() + " with the session cookie must come from"
                    + " this server's own page (Origin or Sec-Fetch-Site says it did not); scripts send"
                    + " 'Authorization: Bearer <token>' instead"));
            return;
        }
        pass(SESSION, request, response, chain);
    }

    private void pass(Principal principal, HttpServletRequest request, HttpServletResponse response,
                      FilterChain chain) throws IOException, ServletException {
        request.setAttribute(PRINCIPAL, principal);
        try {
            chain.doFilter(request, response);
        } finally {
            if (SameOrigin.changesState(request.getMethod())) {
                audit(principal, request, response.getStatus());
            }
        }
    }

    private void audit(Principal principal, HttpServletRequest request, int status) {
        try {
            // No model named: the model's own events tell the steps; this line tells who asked for them.
            audit.event(null, null, null, "api", request.getMethod() + " " + request.getRequestURI() + " answered "
                    + status + ", by token '" + principal.name() + "' (scope " + principal.scope().text() + ")");
        } catch (RuntimeException e) {
            log.warn("writing the audit line of {} {} failed: {}", request.getMethod(), request.getRequestURI(),
                    e.toString());
        }
    }
}
