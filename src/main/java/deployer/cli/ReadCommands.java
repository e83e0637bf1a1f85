package deployer.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The commands that only read: {@code list}, {@code status}, {@code events}; tables for people, --json for scripts. */
public final class ReadCommands {

    private ReadCommands() {
    }

    /** {@code deployer list}: every model, with its active version, state, port and URL. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the models and their active "
            + "versions.")
    public static final class List extends ApiCommand {

        @Override
        int run() {
            Api.Response reply = api().get("/api/models").orFail();
            if (json) {
                printJson(reply);
                return 0;
            }
            // A process cell's child (DESIGN 1.12) adds its columns; without one the table is as it always was.
            boolean processes = reply.list().stream().anyMatch(l -> ((Map<?, ?>) l).get("pid") != null);
            Output.Table table = processes
                    ? new Output.Table("NAME", "VERSION", "STATE", "PORT", "URL", "DEPLOY_ID", "PID", "HEAP_MB",
                            "RSS_MB", "RESTARTS")
                    : new Output.Table("NAME", "VERSION", "STATE", "PORT", "URL", "DEPLOY_ID");
            for (Object line : reply.list()) {
                Map<?, ?> m = (Map<?, ?>) line;
                if (processes) {
                    table.row(m.get("name"), m.get("version"), m.get("state"), m.get("port"), m.get("url"),
                            m.get("deploy_id"), m.get("pid"), m.get("heap_mb"), m.get("rss_mb"), m.get("restarts"));
                } else {
                    table.row(m.get("name"), m.get("version"), m.get("state"), m.get("port"), m.get("url"),
                            m.get("deploy_id"));
                }
            }
            if (table.isEmpty()) {
                out().println("no models yet; `deployer deploy DIR` deploys one");
            } else {
                table.print(out());
            }
            return 0;
        }
    }

    /** {@code deployer status DEPLOY_ID}: one deployment, every field; exit 1 when it FAILED. */
    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"Shows one deployment (one uploaded version).", "Exit status 1 when it FAILED."})
    public static final class Status extends ApiCommand {

        @Parameters(paramLabel = "DEPLOY_ID", description = "The id the upload answered.")
        long deployId;

        @Override
        int run() {
            Api.Response reply = api().get("/api/deployments/" + deployId).orFail();
            Map<String, Object> d = reply.object();
            if (json) {
                printJson(reply);
            } else {
                Output.details(out(), d);
                if ("STARTING".equals(d.get("state"))) {
                    out().println("still starting; `deployer cancel " + deployId + "` gives it up");
                }
            }
            return "FAILED".equals(d.get("state")) ? CliFailure.FAILED : 0;
        }
    }

    /** {@code deployer events [NAME] [--limit N]}: the audit log, newest first. */
    @Command(name = "events", mixinStandardHelpOptions = true,
            description = "Shows the audit log, newest first: deploys, health checks, swaps, stops.")
    public static final class Events extends ApiCommand {

        @Parameters(arity = "0..1", paramLabel = "NAME", description = "Only this model's events.")
        String name;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "20",
                description = "How many events at most (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        int run() {
            if (name != null) {
                ModelCommands.checkName(name);
            }
            if (limit < 1) {
                throw CliFailure.usage("--limit must be 1 or more, not " + limit);
            }
            Api.Response reply = api().get("/api/events?limit=" + limit + (name == null ? "" : "&model=" + name))
                    .orFail();
            if (json) {
                printJson(reply);
                return 0;
            }
            Output.Table table = new Output.Table("TIME", "MODEL", "VERSION", "KIND", "MESSAGE");
            for (Object line : reply.list()) {
                Map<?, ?> e = (Map<?, ?>) line;
                table.row(e.get("time"), e.get("model"), e.get("version"), e.get("kind"), e.get("message"));
            }
            if (table.isEmpty()) {
                out().println(name == null ? "no events yet" : "no events for " + name);
            } else {
                table.print(out());
            }
            return 0;
        }
    }
}
