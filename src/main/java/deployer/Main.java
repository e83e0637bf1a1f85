package deployer;

import deployer.cli.DeployCommand;
import deployer.cli.ExportCommand;
import deployer.cli.ModelCommands;
import deployer.cli.NewCommand;
import deployer.cli.ReadCommands;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command line: {@code deployer [serve] [flags]}. Every flag also reads {@code DEPLOYER_<FLAG>}. */
@Command(name = "deployer", mixinStandardHelpOptions = true, version = "deployer 0.1",
        description = "Serves trained models, each in a cell of its own.",
        subcommands = {Main.Serve.class, NewCommand.class, DeployCommand.class, ReadCommands.List.class,
                ReadCommands.Status.class, ModelCommands.Stop.class, ModelCommands.Start.class,
                ModelCommands.Restart.class, ModelCommands.Undeploy.class, ModelCommands.Activate.class,
                ModelCommands.Predict.class, ReadCommands.Events.class, ExportCommand.class})
public final class Main implements Callable<Integer> {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        String[] effective = args;
        if (args.length == 0 || (args[0].startsWith("-") && !isHelpOrVersion(args[0]))) {
            effective = new String[args.length + 1];
            effective[0] = "serve";
            System.arraycopy(args, 0, effective, 1, args.length);
        }
        if (effective[0].equals("serve")) {
            // The server alone: picocli then reads the annotations of one class instead of thirteen, which takes
            // ~0.1 s off every start. Usage and errors read the same.
            return new CommandLine(new Serve()).setCommandName("deployer serve")
                    .execute(Arrays.copyOfRange(effective, 1, effective.length));
        }
        // No @argfile expansion: `deployer predict NAME @body.json` hands the file to the command as its body.
        return new CommandLine(new Main()).setExpandAtFiles(false).execute(effective);
    }

    private static boolean isHelpOrVersion(String arg) {
        return arg.equals("-h") || arg.equals("--help") || arg.equals("-V") || arg.equals("--version");
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /** {@code deployer serve}: runs the server until it is stopped (Ctrl-C or SIGTERM stop it cleanly). */
    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Runs the server.")
    static final class Serve implements Callable<Integer> {

        @Option(names = "--host", defaultValue = "${env:DEPLOYER_HOST:-" + Settings.DEFAULT_HOST + "}",
                description = "Address of the main port (default ${DEFAULT-VALUE}).")
        String host;

        @Option(names = "--port", defaultValue = "${env:DEPLOYER_PORT:-" + Settings.DEFAULT_PORT + "}",
                description = "Main port; 0 picks a free one and writes it to <data>/server.port (default ${DEFAULT-VALUE}).")
        int port;

        @Option(names = "--data", defaultValue = "${env:DEPLOYER_DATA:-" + Settings.DEFAULT_DATA + "}",
                description = "Folder of the database, packages and token (default ${DEFAULT-VALUE}).")
        Path data;

        @Option(names = "--cell-host", defaultValue = "${env:DEPLOYER_CELL_HOST:-" + Settings.DEFAULT_HOST + "}",
                description = "Address the cells' ports bind (default ${DEFAULT-VALUE}).")
        String cellHost;

        @Option(names = "--cell-ports", defaultValue = "${env:DEPLOYER_CELL_PORTS:-" + Settings.DEFAULT_CELL_PORTS + "}",
                description = "Ports for cells, one per model: a range, or 0 for any free port (default ${DEFAULT-VALUE}).")
        String cellPorts;

        @Option(names = "--token", defaultValue = "${env:DEPLOYER_TOKEN}",
                description = "Admin token for /api; without it one is made and kept in <data>/admin.token.")
        String token;

        @Option(names = "--max-upload-mb", defaultValue = "${env:DEPLOYER_MAX_UPLOAD_MB:-" + Settings.DEFAULT_MAX_UPLOAD_MB + "}",
                description = "Largest upload accepted, in MiB (default ${DEFAULT-VALUE}).")
        long maxUploadMb;

        @Option(names = "--ping-interval-ms", defaultValue = "${env:DEPLOYER_PING_INTERVAL_MS:-" + Settings.DEFAULT_PING_INTERVAL_MS + "}",
                description = "How often READY cells are pinged (default ${DEFAULT-VALUE}).")
        long pingIntervalMs;

        @Option(names = "--ping-failures", defaultValue = "${env:DEPLOYER_PING_FAILURES:-" + Settings.DEFAULT_PING_FAILURES + "}",
                description = "Failed pings in a row before a cell is restarted (default ${DEFAULT-VALUE}).")
        int pingFailures;

        @Override
        public Integer call() throws Exception {
            Settings settings;
            try {
                settings = new Settings(host, port, data, cellHost, Settings.PortRange.parse(cellPorts),
                        Optional.ofNullable(token).filter(t -> !t.isEmpty()), maxUploadMb, pingIntervalMs, pingFailures);
            } catch (IllegalArgumentException e) {
                System.err.println("deployer: " + e.getMessage());
                return 2;
            }
            Deployer deployer;
            try {
                deployer = Deployer.start(settings);
            } catch (IllegalStateException e) {
                System.err.println("deployer: " + e.getMessage());
                return 1;
            } catch (java.io.IOException e) {
                System.err.println("deployer: could not start: " + e.getMessage());
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                deployer.close();
                // Last, so the access log's final batch is written before the JVM exits.
                LogSetup.stop();
                stopped.countDown();
            }, "deployer-shutdown"));
            System.out.println("deployer listening on " + deployer.uri() + " (port " + deployer.port() + ")");
            stopped.await();
            return 0;
        }
    }
}
