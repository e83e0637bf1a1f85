package deployer.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * A command that calls a server: takes {@code --server}, {@code --token}, {@code --data} (see {@link Target#resolve}
 * for how they are used) and {@code --json}.
 */
abstract class ApiCommand extends ClientCommand {

    @Option(names = "--server", paramLabel = "URL",
            description = "The server's address (default: DEPLOYER_SERVER, else what `deployer login` kept, else "
                    + "the port in ./" + Target.DEFAULT_DATA + "/server.port).")
    String server;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "The admin token (default: DEPLOYER_TOKEN, else what `deployer login` kept, else "
                    + "<data>/admin.token).")
    String token;

    @Option(names = "--data", paramLabel = "DIR",
            description = "The data folder of a server on this box (default: DEPLOYER_DATA, else ./"
                    + Target.DEFAULT_DATA + ").")
    Path data;

    @Option(names = "--json", description = "Print the API's JSON answer, for scripts.")
    boolean json;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "Trust the certificates in this PEM file (a private CA, or the server's own) besides the"
                    + " JDK's (default: DEPLOYER_TLS_CA).")
    Path tlsCa;

    private Api api;

    /** The client for the server these flags (or the environment, or the data folder) name. */
    Api api() {
        if (api == null) {
            Path ca = tlsCa;
            String caSource = "--tls-ca";
            if (ca == null && env.get("DEPLOYER_TLS_CA") != null && !env.get("DEPLOYER_TLS_CA").isBlank()) {
                ca = Path.of(env.get("DEPLOYER_TLS_CA"));
                caSource = "DEPLOYER_TLS_CA";
            }
            api = new Api(Target.resolve(server, token, data, env), ca, caSource);
        }
        return api;
    }

    /** Prints the answer's JSON as the server sent it. */
    void printJson(Api.Response reply) {
        out().println(reply.body().strip());
    }
}
