package deployer.cli;

import java.io.Console;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer login URL [--token T]} and {@code deployer logout} (DESIGN 1.13): the server and token kept in the
 * client's own file ({@link ClientHome}), so that every client command reaches that server from any folder.
 */
public final class LoginCommands {

    private LoginCommands() {
    }

    /** {@code deployer login URL [--token T]}: checks the token against the server, then keeps both. */
    @Command(name = "login", mixinStandardHelpOptions = true,
            description = {"Checks the admin token against the server, then keeps server and token in "
                    + "~/.config/deployer/client.json (owner-only), so client commands work from any folder.",
                    "The file is $DEPLOYER_CONFIG when set, else $XDG_CONFIG_HOME/deployer/client.json."})
    public static final class Login extends ClientCommand {

        @Parameters(paramLabel = "URL", description = "The server's address, e.g. http://127.0.0.1:8080.")
        String url;

        @Option(names = "--token", paramLabel = "TOKEN",
                description = "The admin token (default: DEPLOYER_TOKEN, else the admin.token of --data or "
                        + "./deployer-data when it is this server's, else asked for on the terminal).")
        String token;

        @Option(names = "--data", paramLabel = "DIR",
                description = "The data folder of the server, to take its admin.token from.")
        Path data;

        /** Reads the token on a terminal, not echoed; null when there is none. */
        Console console = System.console();

        @Override
        int run() throws IOException {
            ClientHome home = ClientHome.of(env);
            Target target = Target.resolve(url, token, data, env, new ClientHome(null, "not read by login"));
            String chosen = target.token();
            String from = target.tokenSource();
            if (chosen == null && console != null) {
                char[] typed = console.readPassword("admin token for %s: ", target.server());
                if (typed != null && typed.length > 0) {
                    chosen = new String(typed).trim();
                    from = "the terminal";
                }
            }
            if (chosen == null) {
                throw CliFailure.usage("no token for " + target.server() + ": pass --token T (the server prints "
                        + "where its admin.token is), or set DEPLOYER_TOKEN");
            }
            Target checked = new Target(target.server(), "the login URL", chosen, from);
            new Api(checked).check();
            Path file = home.write(new ClientHome.Login(checked.server().toString(), chosen));
            out().println("logged in to " + checked.server() + "; kept in " + file
                    + " (owner-only); client commands now use it from any folder");
            return 0;
        }
    }

    /** {@code deployer logout}: forgets the login. */
    @Command(name = "logout", mixinStandardHelpOptions = true,
            description = "Removes the file `deployer login` wrote; the token stays valid on the server.")
    public static final class Logout extends ClientCommand {

        @Override
        int run() throws IOException {
            ClientHome home = ClientHome.of(env);
            if (home.delete()) {
                out().println("logged out: removed " + home.file());
            } else {
                out().println("not logged in" + (home.file() == null ? "" : " (no " + home.file() + ")"));
            }
            return 0;
        }
    }
}
