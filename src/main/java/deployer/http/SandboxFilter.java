package deployer.http;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Keeps a model's replies, served through the main port, from acting as the admin page: a model may answer any
 * content type, HTML too, and on this origin that HTML would ride on the admin's session. {@code sandbox} gives such
 * a document an origin of its own, so it can neither read the page's data nor pass its same-origin check.
 */
final class SandboxFilter extends HttpFilter {

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        response.setHeader("Content-Security-Policy", "sandbox");
        response.setHeader("X-Content-Type-Options", "nosniff");
        chain.doFilter(request, response);
    }
}
