package deployer.http;

import deployer.core.DeployerException;
import deployer.core.DeployerException.Kind;
import deployer.store.Tokens;
import deployer.store.Tokens.Scope;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * With {@code --require-score-token}: scoring (the gateway's {@code /models/**}, {@code /v2/**}, and every cell
 * port) takes {@code Authorization: Bearer <token>} of a token with scope {@code score} (or {@code admin}). Health
 * and readiness stay open, so probes and the server's own pings need no token. {@link #allows} is the check alone,
 * for a scoring path that is not a servlet; {@link #filter} puts it in front of one.
 */
public final class ScoreTokens {

    private static final String PREFIX = "Bearer ";

    private final Tokens tokens;
    private final boolean required;

    public ScoreTokens(Tokens tokens, boolean required) {
        this.tokens = tokens;
        this.required = required;
    }

    /** Whether scoring asks for a token at all ({@code --require-score-token}). */
    public boolean required() {
        return required;
    }

    /** Whether a call with this {@code Authorization} header (null: none) may score. */
    public boolean allows(String authorizationHeader) {
        if (!required) {
            return true;
        }
        if (authorizationHeader == null
                || !authorizationHeader.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            return false;
        }
        return tokens.authenticate(authorizationHeader.substring(PREFIX.length()).trim())
                .map(p -> p.scope().covers(Scope.SCORE)).orElse(false);
    }

    /** Paths that answer whether a model is up, never a prediction: open to probes. */
    static boolean open(String method, String path) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return false;
        }
        return path.equals("/health") || path.endsWith("/health") || path.startsWith("/v2/health/")
                || path.endsWith("/ready") || path.equals("/metrics");
    }

    /**
     * Why a call with this {@code Authorization} header (null: none) may not score: 401 without a token or with a
     * wrong one, 403 with a token whose scope does not cover scoring; null when it may.
     */
    public DeployerException refusal(String header) {
        if (allows(header)) {
            return null;
        }
        if (header == null || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            return new DeployerException(Kind.UNAUTHORIZED, "scoring on this server needs"
                    + " 'Authorization: Bearer <token>' with a token of scope score (--require-score-token)");
        }
        boolean known = tokens.authenticate(header.substring(PREFIX.length()).trim()).isPresent();
        return known
                ? new DeployerException(Kind.FORBIDDEN, "scoring needs a token with scope score; this token's scope"
                        + " does not cover it")
                : new DeployerException(Kind.UNAUTHORIZED, "wrong token: scoring needs a token of scope score"
                        + " (--require-score-token)");
    }

    /** A filter that answers 401 (no token) or 403 (a token that may not score) before the call reaches a model. */
    public Filter filter() {
        return new HttpFilter() {
            @Override
            protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                    throws IOException, ServletException {
                DeployerException refused = open(request.getMethod(), request.getRequestURI()) ? null
                        : refusal(request.getHeader("Authorization"));
                if (refused == null) {
                    chain.doFilter(request, response);
                } else {
                    Errors.send(response, refused);
                }
            }
        };
    }
}
