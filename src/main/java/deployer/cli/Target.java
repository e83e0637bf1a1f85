package deployer.cli;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a client command sends its calls: the server's base URL and the admin token, each with the place it came
 * from, so an error can say which setting to fix. DESIGN 1.13's order: the flags ({@code --server}, {@code --token}),
 * then {@code DEPLOYER_SERVER} / {@code DEPLOYER_TOKEN}, then a data folder named on purpose ({@code --data} or
 * {@code DEPLOYER_DATA}), then the client's file {@code deployer login} wrote ({@link ClientHome}),
 * then {@code ./deployer-data} of a server started in this folder. With none of them, a usage error that says how to
 * name one — never a silent default address.
 *
 * <p>A token read from a place (a data folder's {@code admin.token}, the client's file) is only ever sent to the
 * server of that same place: naming another server with {@code --server} must not hand it the token of the one
 * logged in to.
 *
 * @param server the base URL, without a trailing slash
 * @param serverSource where {@code server} came from, e.g. {@code "--server"}
 * @param token the admin token; null when none was found
 * @param tokenSource where {@code token} came from, or what was looked at when none was found
 */
record Target(URI server, String serverSource, String token, String tokenSource) {

    static final String DEFAULT_DATA = "deployer-data";
    static final String NO_SERVER = "no server named: run `deployer login URL --token T` once, or pass --server URL, "
            + "or set DEPLOYER_SERVER (or run the command in the folder that holds the server's ./" + DEFAULT_DATA
            + ")";
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");

    /**
     * One place that may name a server, a token, or both.
     *
     * @param server the URL it names, or null
     * @param serverSource how to say where the URL came from
     * @param token the token it holds, or null
     * @param tokenSource how to say where the token came from
     * @param bound whether the token belongs to this place's server only
     */
    private record Place(String server, String serverSource, String token, String tokenSource, boolean bound) {
    }

    /** Resolves the target from flags (null when absent), the environment and the client's file. */
    static Target resolve(String serverFlag, String tokenFlag, Path dataFlag, Map<String, String> env) {
        return resolve(serverFlag, tokenFlag, dataFlag, env, ClientHome.of(env));
    }

    /**
     * Resolves the target from flags (null when absent), the environment and {@code home}.
     *
     * @throws CliFailure USAGE when no place names a server, or the server is not an http(s) URL
     */
    static Target resolve(String serverFlag, String tokenFlag, Path dataFlag, Map<String, String> env,
                          ClientHome home) {
        List<Place> places = new ArrayList<>();
        places.add(new Place(blankToNull(serverFlag), "--server", trimmed(tokenFlag), "--token", false));
        places.add(new Place(blankToNull(env.get("DEPLOYER_SERVER")), "DEPLOYER_SERVER",
                trimmed(env.get("DEPLOYER_TOKEN")), "DEPLOYER_TOKEN", false));
        if (dataFlag != null) {
            places.add(dataFolder(dataFlag, "--data " + dataFlag, false));
        } else if (present(env.get("DEPLOYER_DATA"))) {
            places.add(dataFolder(Path.of(env.get("DEPLOYER_DATA")), "DEPLOYER_DATA", false));
        }
        ClientHome.Login login = home.read();
        if (login != null) {
            places.add(new Place(login.server(), home.file().toString(), login.token(), home.file().toString(),
                    true));
        }
        if (dataFlag == null && !present(env.get("DEPLOYER_DATA"))) {
            places.add(dataFolder(Path.of(DEFAULT_DATA), "./" + DEFAULT_DATA, true));
        }

        Place named = places.stream().filter(p -> p.server() != null).findFirst()
                .orElseThrow(() -> CliFailure.usage(NO_SERVER));
        URI server = parse(named.server(), named.serverSource());

        List<String> skipped = new ArrayList<>();
        for (Place place : places) {
            if (place.token() == null) {
                continue;
            }
            if (!place.bound() || place == named
                    || place.server() != null && sameServer(server, parse(place.server(), place.serverSource()))) {
                return new Target(server, named.serverSource(), place.token(), place.tokenSource());
            }
            skipped.add(place.tokenSource() + " is not for this server" + (place.server() == null ? ""
                    : " but for " + place.server()));
        }
        String looked = "none found: pass --token, set DEPLOYER_TOKEN, or `deployer login " + server + " --token T`"
                + (skipped.isEmpty() ? "" : "; " + String.join("; ", skipped));
        return new Target(server, named.serverSource(), null, looked);
    }

    /**
     * A server's data folder on this box: its {@code server.port} and {@code admin.token}, when they are there. A
     * folder named on purpose ({@code --data}, {@code DEPLOYER_DATA}) lends its token to any server; the one merely
     * found in the current folder only to its own.
     */
    private static Place dataFolder(Path data, String source, boolean bound) {
        Path portFile = data.resolve("server.port").normalize();
        Path tokenFile = data.resolve("admin.token").normalize();
        String port = read(portFile);
        String token = read(tokenFile);
        return new Place(port == null ? null : "http://127.0.0.1:" + port, display(portFile), token,
                display(tokenFile), bound);
    }

    private static boolean sameServer(URI a, URI b) {
        if (a.equals(b)) {
            return true;
        }
        return a.getScheme().equals(b.getScheme()) && a.getPort() == b.getPort()
                && LOOPBACK.contains(a.getHost()) && LOOPBACK.contains(b.getHost())
                && String.valueOf(a.getPath()).equals(String.valueOf(b.getPath()));
    }

    /** A path as people read it: {@code ./deployer-data/x} stays relative, but never {@code /a/./b}. */
    static String display(Path path) {
        return path.normalize().toString();
    }

    static URI parse(String text, String source) {
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

    private static String blankToNull(String value) {
        return present(value) ? value : null;
    }

    private static String trimmed(String value) {
        return present(value) ? value.trim() : null;
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
