package deployer.cli;

import deployer.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine;

/**
 * Runs the {@code deployer} command line in-process, the way {@code Main.run} wires it, with its output captured. The
 * environment each client command sees is {@link #env}, not the test JVM's.
 */
final class Cli {

    private final Map<String, String> env;

    Cli(Map<String, String> env) {
        this.env = env;
    }

    static Cli withoutEnvironment() {
        return new Cli(Map.of());
    }

    /** One run: the exit status and what went to stdout and stderr. */
    record Run(int exit, String out, String err) {

        @Override
        public String toString() {
            return "exit " + exit + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    Run run(String... args) {
        return run(command -> { }, args);
    }

    /** Runs with a hook that may adjust a command before it runs (e.g. pretend stderr is a terminal). */
    Run run(Consumer<Object> adjust, String... args) {
        CommandLine line = new CommandLine(new Main()).setExpandAtFiles(false);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        for (CommandLine sub : all(line)) {
            if (sub.getCommand() instanceof ClientCommand client) {
                client.env = env;
                adjust.accept(client);
            }
        }
        int exit = line.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static List<CommandLine> all(CommandLine line) {
        List<CommandLine> lines = new ArrayList<>(List.of(line));
        for (CommandLine sub : line.getSubcommands().values()) {
            lines.addAll(all(sub));
        }
        return lines;
    }
}
