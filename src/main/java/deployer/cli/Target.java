package deployer.cli;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a client command sends its calls: the server's base URL and the admin token, each with the place it came
 * from, so an error can say which setting to fix. Found from the flags, then {@code DEPLOYER_SERVER} /
 * {@code DEPLOYER_TOKEN}, then the data folder of a server on this box ({@code --data}, {@code DEPLOYER_DATA},
 * {@code ./deployer-data}: its {@code server.port} and {@code admin.token}), then {@value #DEFAULT_SERVER}.
 *
 * @param server the base URL, without a trailing slash
 * @param serverSource where {@code server} came from, e.g. {@code "--server"}
 * @param token the admin token; null when none was found
 * @param tokenSource where {@code token} came from, or what was looked at when none was found
 */
record Target(URI server, String serverSource, String token, String tokenSource) {

    static final String DEFAULT_SERVER = "http://127.0.0.1:8080";
    static final String DEFAULT_DATA = "deployer-data";

    /**
     * Resolves the target from flags (null when absent) and the environment.
     *
     * @throws CliFailure USAGE when the server is not an http(s) URL
     */
    static Target resolve(String serverFlag, String tokenFlag, Path dataFlag, Map<String, String> env) {
        Path data;
        String dataSource;
        if (dataFlag != null) {
            data = dataFlag;
            dataSource = "--data " + dataFlag;
        } else if (present(env.get("DEPLOYER_DATA"))) {
            data = Path.of(env.get("DEPLOYER_DATA"));
            dataSource = "DEPLOYER_DATA";
        } else {
            data = Path.of(DEFAULT_DATA);
            dataSource = "./" + DEFAULT_DATA;
        }

        String server;
        String serverSource;
        String port = read(data.resolve("server.port"));
        if (present(serverFlag)) {
            server = serverFlag;
            serverSource = "--server";
        } else if (present(env.get("DEPLOYER_SERVER"))) {
            server = env.get("DEPLOYER_SERVER");
            serverSource = "DEPLOYER_SERVER";
        } else if (port != null) {
            server = "http://127.0.0.1:" + port;
            serverSource = data.resolve("server.port").toString();
        } else {
            server = DEFAULT_SERVER;
            serverSource = "the default; pass --server or set DEPLOYER_SERVER";
        }

        String token;
        String tokenSource;
        String stored = read(data.resolve("admin.token"));
        if (present(tokenFlag)) {
            token = tokenFlag.trim();
            tokenSource = "--token";
        } else if (present(env.get("DEPLOYER_TOKEN"))) {
            token = env.get("DEPLOYER_TOKEN").trim();
            tokenSource = "DEPLOYER_TOKEN";
        } else if (stored != null) {
            token = stored;
            tokenSource = data.resolve("admin.token").toString();
        } else {
            token = null;
            tokenSource = "none found: pass --token, set DEPLOYER_TOKEN, or point --data (" + dataSource
                    + ") at the server's data folder";
        }
        return new Target(parse(server, serverSource), serverSource, token, tokenSource);
    }

    private static URI parse(String text, String source) {
        String trimmed = text.trim();
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        try {
            URI uri = new URI(trimmed);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
                    && uri.getQuery() == null && uri.getFragment() == null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // answered below
        }
        throw CliFailure.usage("server " + quote(text) + " (from " + source
                + ") is not a URL like http://127.0.0.1:8080");
    }

    private static String read(Path file) {
        try {
            if (Files.isRegularFile(file) && Files.isReadable(file)) {
                String text = Files.readString(file, StandardCharsets.UTF_8).trim();
                return text.isEmpty() ? null : text;
            }
        } catch (IOException e) {
            // an unreadable file is the same as none: the next place is tried
        }
        return null;
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }

    static String quote(String text) {
        return "'" + text + "'";
    }

    /** A URL on the server: {@code path} starts with a slash. */
    URI resolve(String path) {
        return URI.create(server + path);
    }
}
