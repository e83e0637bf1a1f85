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

/** Lets an {@code /api/**} call through only with {@code Authorization: Bearer <token>}, compared in constant time. */
final class AuthFilter extends HttpFilter {

    private static final String PREFIX = "Bearer ";

    private final byte[] token;
    private final String tokenHint;

    AuthFilter(String token, String tokenHint) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.tokenHint = tokenHint;
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String header = request.getHeader("Authorization");
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
}
