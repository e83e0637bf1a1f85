package deployer.http;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The admin page's session cookie: {@code HttpOnly} (no script reads it), {@code SameSite=Strict} (no other site's
 * page sends it), {@code Secure} when the request came over TLS. Written as a header, so every attribute is plain.
 */
final class SessionCookie {

    static final String NAME = "deployer_session";

    private SessionCookie() {
    }

    /** The session id the request carries, or null. */
    static String read(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie cookie : cookies) {
            if (cookie.getName().equals(NAME)) {
                return cookie.getValue();
            }
        }
        return null;
    }

    static void set(HttpServletRequest request, HttpServletResponse response, String id, long maxAgeSeconds) {
        response.addHeader("Set-Cookie", NAME + "=" + id + "; Path=/; Max-Age=" + maxAgeSeconds
                + "; HttpOnly; SameSite=Strict" + (request.isSecure() ? "; Secure" : ""));
    }

    static void clear(HttpServletRequest request, HttpServletResponse response) {
        set(request, response, "", 0);
    }
}
