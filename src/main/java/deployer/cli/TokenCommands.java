package deployer.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer token create NAME --scope S}, {@code token list}, {@code token revoke NAME} and
 * {@code token rotate-admin [--grace 10m]}: the API's tokens ({@code /api/tokens}, admin only). A token is printed
 * once, when it is made; the server keeps only its digest.
 */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Makes, lists and revokes API tokens.",
        subcommands = {TokenCommands.Create.class, TokenCommands.List.class, TokenCommands.Revoke.class,
                TokenCommands.RotateAdmin.class})
public final class TokenCommands extends ClientCommand {

    @Override
    int run() {
        spec.commandLine().usage(out());
        return 0;
    }

    /** {@code deployer token create NAME --scope deploy}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Makes a named token and prints it (once: the server keeps only its digest).")
    public static final class Create extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "The token's name, as the audit log shows it.")
        String name;

        @Option(names = "--scope", required = true, paramLabel = "SCOPE",
                description = "admin (everything), deploy (upload, lifecycle, read), read (GET only), score"
                        + " (scoring, with --require-score-token).")
        String scope;

        @Override
        int run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("scope", scope);
            Api.Response reply = api().post("/api/tokens", body).orFail();
            if (json) {
                printJson(reply);
                return 0;
            }
            Map<String, Object> made = reply.object();
            out().println(made.get("token"));
            err().println("token '" + made.get("name") + "' (scope " + made.get("scope") + ") made; keep it now,"
                    + " it is not shown again");
            return 0;
        }
    }

    /** {@code deployer token list}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the tokens: names, scopes, dates; never a token itself.")
    public static final class List extends ApiCommand {

        @Override
        int run() {
            Api.Response reply = api().get("/api/tokens").orFail();
            if (json) {
                printJson(reply);
                return 0;
            }
            Output.Table table = new Output.Table("NAME", "SCOPE", "CREATED", "EXPIRES");
            for (Object line : reply.list()) {
                Map<?, ?> t = (Map<?, ?>) line;
                table.row(t.get("name"), t.get("scope"), t.get("created"), t.get("expires"));
            }
            table.print(out());
            return 0;
        }
    }

    /** {@code deployer token revoke NAME}. */
    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revokes a named token: the next call made with it is refused.")
    public static final class Revoke extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "The token's name.")
        String name;

        @Override
        int run() {
            api().delete("/api/tokens/" + name).orFail();
            out().println("token '" + name + "' revoked");
            return 0;
        }
    }

    /** {@code deployer token rotate-admin [--grace 10m]}. */
    @Command(name = "rotate-admin", mixinStandardHelpOptions = true,
            description = "Replaces the admin token and prints the new one; the old one keeps working for the"
                    + " grace period.")
    public static final class RotateAdmin extends ApiCommand {

        @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "10m",
                description = "How long the old admin token keeps working: 0, 30s, 10m, 2h, 1d (default"
                        + " ${DEFAULT-VALUE}).")
        String grace;

        @Override
        int run() {
            Api.Response reply = api().post("/api/tokens/admin/rotate", Map.of("grace", grace)).orFail();
            if (json) {
                printJson(reply);
                return 0;
            }
            Map<String, Object> made = reply.object();
            out().println(made.get("token"));
            err().println("new admin token made; the old one works until " + made.get("previous_valid_until")
                    + ". Update DEPLOYER_TOKEN / --token (a generated admin.token was rewritten)");
            return 0;
        }
    }
}
