package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.pack.LibStore;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /api/libs/missing} {@code {"sha256": ["…", …]}} → {@code {"missing": ["…"]}}: which of a package's jars
 * the server does not keep yet, so a client sends only those and names the others in parts {@code stored}.
 */
final class LibsCall {

    /** 10,000 hashes of 64 characters, and their quotes. */
    private static final int MAX_BODY_BYTES = 1 << 20;

    private LibsCall() {
    }

    static Map<String, Object> missing(LibStore libs, HttpServletRequest request) throws IOException {
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (body.length > MAX_BODY_BYTES) {
            throw DeployerException.tooLarge("the list of hashes is over " + (MAX_BODY_BYTES >> 20) + " MiB");
        }
        Object parsed;
        try {
            parsed = Json.parse(body);
        } catch (IOException e) {
            throw DeployerException.badRequest("the body must be JSON {\"sha256\": [\"<hex>\", …]}: "
                    + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> map) || !(map.get("sha256") instanceof List<?> given)) {
            throw DeployerException.badRequest("the body must be {\"sha256\": [\"<hex>\", …]}");
        }
        List<String> hashes = new ArrayList<>();
        for (Object sha : given) {
            if (!(sha instanceof String s)) {
                throw DeployerException.badRequest("each of \"sha256\" must be a string of 64 hex characters");
            }
            hashes.add(s);
        }
        return Map.of("missing", libs == null ? hashes : libs.missing(hashes));
    }
}
