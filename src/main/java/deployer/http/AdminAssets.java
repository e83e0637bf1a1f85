package deployer.http;

import deployer.core.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The admin page's files, read once from {@code admin/} on the class path (so from the jar) and served from memory:
 * a handful of small files, each with its content type and an ETag. Nothing is fetched from anywhere else.
 */
final class AdminAssets {

    /** Where the files are on the class path. */
    static final String ROOT = "admin/";

    /** The URL path of each file, and its content type; {@code /} is the page itself. */
    private static final Map<String, String[]> FILES = Map.of(
            "/", new String[] {"index.html", "text/html;charset=utf-8"},
            "/admin/app.js", new String[] {"app.js", "text/javascript;charset=utf-8"},
            "/admin/app.css", new String[] {"app.css", "text/css;charset=utf-8"},
            "/admin/icon.svg", new String[] {"icon.svg", "image/svg+xml"});

    /**
     * What the page may load and talk to: its own files and its own origin, nothing else; no inline script, no
     * framing by another page.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    record Asset(byte[] bytes, String contentType, String etag) {
    }

    private final Map<String, Asset> assets = new LinkedHashMap<>();

    AdminAssets() {
        ClassLoader loader = AdminAssets.class.getClassLoader();
        FILES.forEach((path, file) -> {
            try (InputStream in = loader.getResourceAsStream(ROOT + file[0])) {
                if (in == null) {
                    throw new IllegalStateException("the jar lacks " + ROOT + file[0] + " (the admin page)");
                }
                byte[] bytes = in.readAllBytes();
                assets.put(path, new Asset(bytes, file[1], "\"" + digest(bytes) + "\""));
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + ROOT + file[0] + " failed: " + e.getMessage(), e);
            }
        });
    }

    Optional<Asset> get(String path) {
        return Optional.ofNullable(assets.get(path));
    }

    private static String digest(byte[] bytes) {
        return Sha256.hex(bytes).substring(0, 24);
    }
}
