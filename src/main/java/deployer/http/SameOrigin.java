package deployer.http;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Locale;

/**
 * Tells a request the admin page made from its own origin from one another site made with the page's cookie. A
 * browser marks every request it sends: {@code Sec-Fetch-Site} (which no page can set) or, from older browsers,
 * {@code Origin} on every POST, PUT and DELETE. A request carrying neither is not from a browser page, so it gets no
 * benefit of the doubt when it rides on a cookie.
 */
final class SameOrigin {

    private SameOrigin() {
    }

    /** Whether a state-changing request made with the session cookie may go ahead. */
    static boolean allows(HttpServletRequest request) {
        String site = request.getHeader("Sec-Fetch-Site");
        if (site != null) {
            return site.trim().equalsIgnoreCase("same-origin");
        }
        String origin = request.getHeader("Origin");
        return origin != null && origin.trim().toLowerCase(Locale.ROOT).equals(ownOrigin(request));
    }

    /** Whether {@code method} may change state: everything but the reads. */
    static boolean changesState(String method) {
        return !(method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS"));
    }

    /**
     * The origin this request was sent to, as its browser names it: scheme and the {@code Host} it asked for. A page
     * of another site cannot choose the {@code Host} its visitor's browser sends here.
     */
    static String ownOrigin(HttpServletRequest request) {
        String host = request.getHeader("Host");
        if (host == null || host.isBlank()) {
            host = request.getServerName() + ":" + request.getServerPort();
        }
        String scheme = request.getScheme().toLowerCase(Locale.ROOT);
        String authority = host.trim().toLowerCase(Locale.ROOT);
        // A browser leaves the scheme's default port out of Origin.
        if (scheme.equals("http") && authority.endsWith(":80")) {
            authority = authority.substring(0, authority.length() - 3);
        } else if (scheme.equals("https") && authority.endsWith(":443")) {
            authority = authority.substring(0, authority.length() - 4);
        }
        return scheme + "://" + authority;
    }
}
