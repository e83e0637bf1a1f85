package deployer.cli;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer logs NAME [-f]}: the model's own log lines (what it writes to {@code ModelContext.logger()}),
 * each naming model and version; {@code -f} keeps reading new ones until interrupted.
 */
@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Shows the model's own log lines (ModelContext.logger()), oldest first, each naming model "
                + "and version.", "The server keeps the last " + 1000 + " lines of each of a model's last cells."})
public final class LogsCommand extends ApiCommand {

    static final Duration POLL = Duration.ofSeconds(1);

    @Parameters(paramLabel = "NAME", description = "The model's name.")
    String name;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines as the model writes them (Ctrl-C ends).")
    boolean follow;

    @Option(names = "--since", paramLabel = "SEQ", defaultValue = "0",
            description = "Only lines after this sequence number (the \"seq\" of --json).")
    long since;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "200",
            description = "How many lines at most, the newest (default ${DEFAULT-VALUE}).")
    int limit;

    @Override
    int run() throws InterruptedException {
        ModelCommands.checkName(name);
        if (limit < 1) {
            throw CliFailure.usage("--limit must be 1 or more, not " + limit);
        }
        long last = since;
        boolean any = false;
        while (true) {
            Api.Response reply = api().get("/api/models/" + name + "/logs?since=" + last + "&limit=" + limit).orFail();
            List<Object> lines = reply.list();
            if (json) {
                if (!lines.isEmpty() || !follow) {
                    printJson(reply);
                }
            } else {
                for (Object item : lines) {
                    out().println(format((Map<?, ?>) item));
                }
            }
            for (Object item : lines) {
                last = Math.max(last, ((Number) ((Map<?, ?>) item).get("seq")).longValue());
            }
            any |= !lines.isEmpty();
            out().flush();
            if (!follow) {
                if (!any && !json) {
                    err().println("no log lines from " + name + " yet (it writes them with ModelContext.logger())");
                }
                return 0;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** {@code 2026-12-01T09:58:00.123Z INFO    iris v1 - message}. */
    static String format(Map<?, ?> line) {
        return line.get("time") + " " + String.format("%-7s", line.get("level")) + " " + line.get("model") + " v"
                + line.get("version") + " - " + line.get("message");
    }
}
