package deployer.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer traffic NAME 3=90 4=10 [--shadow 5:20]}, {@code deployer traffic NAME --clear} and
 * {@code deployer payloads NAME} (DESIGN 1.11).
 */
public final class TrafficCommands {

    private TrafficCommands() {
    }

    /** {@code deployer traffic NAME [V=W ...] [--shadow V:P] [--clear]}; with no weights, shows the split. */
    @Command(name = "traffic", mixinStandardHelpOptions = true,
            description = {"Splits a model's requests between its READY versions, or shows the split.",
                    "  deployer traffic iris 3=90 4=10 --shadow 5:20",
                    "Weights are whole percentages summing to 100 or less: the active version takes the rest."})
    public static final class Split extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "The model's name.")
        String name;

        @Parameters(index = "1..*", paramLabel = "VERSION=WEIGHT", arity = "0..*",
                description = "A version and its share of requests, in percent.")
        List<String> weights = List.of();

        @Option(names = "--shadow", paramLabel = "VERSION:PERCENT",
                description = "Also score PERCENT of requests on VERSION after they are answered, to compare.")
        String shadow;

        @Option(names = "--clear", description = "All requests to the active version again; the others retire.")
        boolean clear;

        @Override
        int run() {
            ModelCommands.checkName(name);
            String path = "/api/models/" + name + "/traffic";
            Api.Response reply;
            if (clear) {
                if (!weights.isEmpty() || shadow != null) {
                    throw CliFailure.usage("--clear takes no weights and no --shadow");
                }
                reply = api().delete(path).orFail();
            } else if (weights.isEmpty() && shadow == null) {
                reply = api().get(path).orFail();
            } else {
                Map<String, Object> body = new LinkedHashMap<>();
                Map<String, Object> split = new LinkedHashMap<>();
                for (String pair : weights) {
                    String[] vw = pair.split("=", 2);
                    if (vw.length != 2) {
                        throw CliFailure.usage("'" + pair + "' is not VERSION=WEIGHT, e.g. 3=90");
                    }
                    split.put(vw[0].trim(), number(vw[1], pair));
                }
                body.put("split", split);
                if (shadow != null) {
                    String[] vp = shadow.split(":", 2);
                    if (vp.length != 2) {
                        throw CliFailure.usage("--shadow '" + shadow + "' is not VERSION:PERCENT, e.g. 5:20");
                    }
                    body.put("shadow", Map.of("version", number(vp[0], shadow), "percent", number(vp[1], shadow)));
                }
                reply = api().put(path, body).orFail();
            }
            if (json) {
                printJson(reply);
            } else {
                out().println(describe(reply.object()));
            }
            return 0;
        }

        private static long number(String text, String whole) {
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw CliFailure.usage("'" + whole + "': " + text + " is not a whole number");
            }
        }

        static String describe(Map<String, Object> t) {
            StringBuilder text = new StringBuilder();
            text.append(t.get("model")).append(": active v").append(t.get("active"));
            Map<?, ?> split = (Map<?, ?>) t.get("split");
            if (split == null || split.isEmpty()) {
                text.append(", all requests to it");
            } else {
                long rest = 100;
                text.append("; split");
                for (Map.Entry<?, ?> e : split.entrySet()) {
                    text.append(" v").append(e.getKey()).append('=').append(e.getValue()).append('%');
                    rest -= ((Number) e.getValue()).longValue();
                }
                if (rest > 0) {
                    text.append(" (the active version takes the other ").append(rest).append("%)");
                }
            }
            if (t.get("shadow") instanceof Map<?, ?> s) {
                Map<?, ?> o = (Map<?, ?>) t.get("shadow_outcomes");
                text.append("; shadow v").append(s.get("version")).append(" on ").append(s.get("percent"))
                        .append("% (same ").append(o.get("same")).append(", different ").append(o.get("different"))
                        .append(", error ").append(o.get("error")).append(", dropped ").append(o.get("dropped"))
                        .append(')');
            }
            List<?> down = (List<?>) t.get("down");
            if (down != null && !down.isEmpty()) {
                text.append("; down now (their share goes to the active version): ").append(down);
            }
            return text.toString();
        }
    }

    /** {@code deployer payloads NAME [--limit N]}: the recorded requests and replies, newest first. */
    @Command(name = "payloads", mixinStandardHelpOptions = true,
            description = "Shows a model's recorded requests and replies, newest first (\"payloads\" in deploy.json).")
    public static final class Payloads extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "The model's name.")
        String name;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "How many (default 20).")
        int limit;

        @Override
        int run() {
            ModelCommands.checkName(name);
            if (limit < 1 || limit > 10_000) {
                throw CliFailure.usage("--limit must be from 1 to 10000, not " + limit);
            }
            Api.Response reply = api().get("/api/models/" + name + "/payloads?limit=" + limit).orFail();
            if (json) {
                printJson(reply);
                return 0;
            }
            List<Object> records = reply.list();
            if (records.isEmpty()) {
                out().println(name + ": no payloads recorded (set \"payloads\" in deploy.json, or PUT"
                        + " /api/models/" + name + "/payloads)");
            }
            for (Object o : records) {
                Map<?, ?> r = (Map<?, ?>) o;
                out().println(r.get("time") + " v" + r.get("version") + " " + r.get("status") + " " + r.get("ms")
                        + " ms  " + deployer.core.Json.writeString(r.get("request")) + " -> "
                        + deployer.core.Json.writeString(r.get("reply")));
            }
            return 0;
        }
    }
}
