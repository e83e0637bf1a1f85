package deployer;

import deployer.cell.process.FrameServer;
import deployer.cli.DeployCommand;
import deployer.cli.LoginCommands;
import deployer.cli.LogsCommand;
import deployer.cli.ExportCommand;
import deployer.cli.ModelCommands;
import deployer.cli.NewCommand;
import deployer.cli.ReadCommands;
import deployer.cli.TokenCommands;
import deployer.cli.RunCommand;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import deployer.core.DeployerException;
import deployer.core.FileTrees;
import deployer.core.Settings;

/** The command line: {@code deployer [serve] [flags]}. Every flag also reads {@code DEPLOYER_<FLAG>}. */
@Command(name = "deployer", mixinStandardHelpOptions = true, version = "deployer 0.1",
        description = "Serves trained models, each in a cell of its own.",
        subcommands = {Main.Serve.class, NewCommand.class, DeployCommand.class, ReadCommands.List.class,
                ReadCommands.Status.class, ModelCommands.Stop.class, ModelCommands.Start.class,
                ModelCommands.Restart.class, ModelCommands.Undeploy.class, ModelCommands.Activate.class,
                ModelCommands.Predict.class, ReadCommands.Events.class, deployer.cli.CancelCommand.class,
                TokenCommands.class, LoginCommands.Login.class, LoginCommands.Logout.class, LogsCommand.class,
                RunCommand.class, ExportCommand.class, Main.CellAlone.class,
                deployer.cli.TrafficCommands.Split.class, deployer.cli.TrafficCommands.Payloads.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    public static void main(String[] args) {
        tellJettyTheCacheLine();
        System.exit(run(args));
    }

    /**
     * Jetty pads its hot counters to a cache line, and asks the platform MBean server how wide a reference is: that
     * starts JMX and every JDK management bean, ~0.1 s of each start. Told the answer, it does not ask. Compressed
     * references (4 bytes) are what the JVM uses for any heap under 32 GiB. The one system property the process
     * sets, here before anything loads Jetty (an architecture test keeps {@code System.setProperty} in Main).
     */
    static void tellJettyTheCacheLine() {
        String perLine = "org.eclipse.jetty.util.referencesPerCacheLine";
        if (System.getProperty(perLine) == null) {
            boolean compressed = Runtime.getRuntime().maxMemory() < 32L << 30;
            System.setProperty(perLine, Integer.toString(64 / (compressed ? 4 : 8)));
        }
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

        @Option(names = "--scoring-memory-mb", defaultValue = "${env:DEPLOYER_SCORING_MEMORY_MB:-0}",
                description = "Scoring bodies held at once across all models, in MiB; past it 503 (default: a quarter of the heap).")
        long scoringMemoryMb;

        @Option(names = "--rebuild-db", defaultValue = "${env:DEPLOYER_REBUILD_DB:-false}",
                description = "Record the models again from the package folders under <data>/models (their"
                        + " deploy.json), into a missing or empty database; every version comes back STOPPED. For a"
                        + " data folder whose database was lost.")
        boolean rebuildDb;

        @Option(names = "--tls-cert", paramLabel = "FILE", defaultValue = "${env:DEPLOYER_TLS_CERT}",
                description = "TLS on every port: the certificate chain (PEM), with --tls-key; reloaded when it changes.")
        Path tlsCert;

        @Option(names = "--tls-key", paramLabel = "FILE", defaultValue = "${env:DEPLOYER_TLS_KEY}",
                description = "The certificate's private key (PEM: PKCS#8, PKCS#1 or EC), unencrypted.")
        Path tlsKey;

        @Option(names = "--tls-keystore", paramLabel = "FILE", defaultValue = "${env:DEPLOYER_TLS_KEYSTORE}",
                description = "TLS on every port from a PKCS#12 keystore instead of PEM files.")
        Path tlsKeystore;

        @Option(names = "--tls-keystore-password", paramLabel = "PASSWORD",
                defaultValue = "${env:DEPLOYER_TLS_KEYSTORE_PASSWORD}", description = "The keystore's password.")
        String tlsKeystorePassword;

        @Option(names = "--require-score-token", defaultValue = "${env:DEPLOYER_REQUIRE_SCORE_TOKEN:-false}",
                description = "Scoring (gateway and cell ports) needs a token of scope score.")
        boolean requireScoreToken;

        @Option(names = "--insecure-http", defaultValue = "${env:DEPLOYER_INSECURE_HTTP:-false}",
                description = "Serve other machines over plain HTTP (behind a proxy that terminates TLS).")
        boolean insecureHttp;

        @Option(names = "--keep-versions", defaultValue = "${env:DEPLOYER_KEEP_VERSIONS:-" + Settings.DEFAULT_KEEP_VERSIONS + "}",
                description = "Versions kept per model: after each deploy, older ones that do not serve are deleted"
                        + " with their files (default ${DEFAULT-VALUE}: keep all).")
        int keepVersions;

        @Option(names = "--payload-log-mb", defaultValue = "${env:DEPLOYER_PAYLOAD_LOG_MB:-"
                + Settings.DEFAULT_PAYLOAD_LOG_MB + "}", description = "The most one model's payload records take"
                + " on disk; the oldest are dropped first (default ${DEFAULT-VALUE}).")
        long payloadLogMb;

        @Option(names = "--cell-java", paramLabel = "FILE", defaultValue = "${env:DEPLOYER_CELL_JAVA}",
                description = "The java that runs \"isolation\": \"process\" cells (default: the one running the server).")
        Path cellJava;

        @Option(names = "--cell-jvm-args", paramLabel = "ARGS", defaultValue = "${env:DEPLOYER_CELL_JVM_ARGS}",
                description = "JVM options of every process cell, split on spaces, e.g. \"-XX:+UseSerialGC -Xss512k\" (default none).")
        String cellJvmArgs;

        @Option(names = "--db", paramLabel = "URL", defaultValue = "${env:DEPLOYER_DB}",
                description = "Keep the records in PostgreSQL (jdbc:postgresql://HOST:PORT/DATABASE) instead of the"
                        + " embedded database under --data; servers on the same --db are replicas.")
        String db;

        @Option(names = "--db-user", paramLabel = "USER", defaultValue = "${env:DEPLOYER_DB_USER}",
                description = "The database user, when the --db URL does not name it.")
        String dbUser;

        @Option(names = "--db-password", paramLabel = "PASSWORD", defaultValue = "${env:DEPLOYER_DB_PASSWORD}",
                description = "The database password (better in DEPLOYER_DB_PASSWORD than on the command line).")
        String dbPassword;

        @Option(names = "--node", paramLabel = "NAME", defaultValue = "${env:DEPLOYER_NODE}",
                description = "This server's name among replicas on one --db, in the audit log and the replicas of"
                        + " a model (default: the host name and the data folder).")
        String node;

        @Override
        public Integer call() throws Exception {
            Settings settings;
            try {
                settings = new Settings(host, port, data, cellHost, Settings.PortRange.parse(cellPorts),
                        Optional.ofNullable(token).filter(t -> !t.isEmpty()), maxUploadMb, pingIntervalMs, pingFailures,
                        scoringMemoryMb, keepVersions, new Settings.Security(Optional.ofNullable(tlsCert), Optional.ofNullable(tlsKey),
                                Optional.ofNullable(tlsKeystore),
                                Optional.ofNullable(tlsKeystorePassword).filter(p -> !p.isEmpty()),
                                requireScoreToken, insecureHttp))
                        .withDb(new Settings.Db(Optional.ofNullable(db).filter(u -> !u.isEmpty()),
                                Optional.ofNullable(dbUser).filter(u -> !u.isEmpty()),
                                Optional.ofNullable(dbPassword).filter(p -> !p.isEmpty()),
                                Optional.ofNullable(node).filter(n -> !n.isEmpty())))
                        .withPayloadLogMb(payloadLogMb)
                        .withCellProcess(Settings.CellProcess.parse(cellJava == null ? null : cellJava.toString(),
                                cellJvmArgs));
            } catch (IllegalArgumentException e) {
                System.err.println("deployer: " + e.getMessage());
                return 2;
            }
            Deployer deployer;
            try {
                deployer = Deployer.start(settings, new Deployer.StartOptions(rebuildDb,
                        java.util.function.UnaryOperator.identity()));
            } catch (IllegalStateException e) {
                System.err.println("deployer: " + e.getMessage());
                return 1;
            } catch (java.io.IOException e) {
                if (e instanceof java.net.BindException || e.getCause() instanceof java.net.BindException) {
                    System.err.println("deployer: could not start: port " + port + " on " + host + " is taken ("
                            + e.getMessage() + "); pick another with --port (--port 0 picks a free one), and "
                            + "--cell-ports for the models' ports");
                    return 1;
                }
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

    /**
     * {@code deployer cell DIR|ARCHIVE [--port 8080] [--host 0.0.0.0]} (DESIGN 1.12): one package served alone, as a
     * container runs it — {@code /predict}, {@code /health}, {@code /v2/**} and {@code /metrics} on one port, the
     * server's own cell code, no database kept and no management API; logs to stdout; exit 1 when the model does not
     * load.
     */
    @Command(name = "cell", mixinStandardHelpOptions = true,
            description = "Serves one package alone on one port (what a container runs): no database, no admin API.")
    static final class CellAlone implements Callable<Integer> {

        @picocli.CommandLine.Parameters(index = "0", paramLabel = "DIR|ARCHIVE",
                description = "A package folder (as deployer export puts it in an image) or a .zip/.tar.gz.")
        Path source;

        @Option(names = "--port", defaultValue = "${env:DEPLOYER_PORT:-8080}",
                description = "The model's port (default ${DEFAULT-VALUE}; 0 picks a free one).")
        int port;

        @Option(names = "--host", defaultValue = "${env:DEPLOYER_HOST:-0.0.0.0}",
                description = "The address the port binds (default ${DEFAULT-VALUE}: every interface, as in a"
                        + " container).")
        String host;

        /** Run by a server as the child of a process cell: exit when the server goes (ParentWatch). */
        @Option(names = "--supervised", hidden = true)
        boolean supervised;

        /** The server's version number of the package, which the model is told (a process cell's child). */
        @Option(names = "--model-version", hidden = true, defaultValue = "0")
        int modelVersion;

        /** A process cell's child: where the server's frames come (the Unix socket's folder, or "tcp"). */
        @Option(names = "--frames", hidden = true)
        String frames;

        /** The most frame connections the child takes at once. */
        @Option(names = "--frames-max", hidden = true, defaultValue = "129")
        int framesMax;

        @Option(names = "--runtimes", paramLabel = "DIR",
                description = "A folder with onnxruntime-<version>.jar for a \"runtime\": \"onnx\" package that"
                        + " carries none (a server's <data>/runtimes, say).")
        Path runtimes;

        @Override
        public Integer call() throws Exception {
            if (supervised) {
                deployer.cell.process.ParentWatch.start(System.in);
            }
            if (!java.nio.file.Files.exists(source)) {
                System.err.println("deployer: " + source + " does not exist; give a package folder or archive");
                return 2;
            }
            Path data = java.nio.file.Files.createTempDirectory("deployer-cell-");
            if (runtimes != null) {
                linkRuntimes(runtimes, data.resolve("runtimes"));
            }
            Settings settings;
            try {
                byte[] random = new byte[32];
                new java.security.SecureRandom().nextBytes(random);
                boolean loopback = host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
                settings = Settings.defaults(data).withPort(0)
                        .withCellHost(host)
                        .withCellPorts(port == 0 ? Settings.PortRange.any() : new Settings.PortRange(port, port))
                        // Nobody is told this token: the management API listens on loopback only, for the cell.
                        .withToken(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random))
                        // A container's port is behind the cluster's network; TLS, when wanted, is the Service's.
                        .withSecurity(Settings.Security.NONE.withInsecureHttp(!loopback));
            } catch (IllegalArgumentException e) {
                FileTrees.delete(data);
                System.err.println("deployer: " + e.getMessage());
                return 2;
            }
            Deployer deployer;
            try {
                deployer = Deployer.startCell(settings, source.toAbsolutePath(), 3_700, modelVersion);
            } catch (IllegalStateException | DeployerException e) {
                FileTrees.delete(data);
                System.err.println("deployer: " + e.getMessage());
                return 1;
            }
            FrameServer frameServer = null;
            if (frames != null) {
                // A process cell's child: the server's requests come as frames, through the same scoring path.
                try {
                    frameServer = FrameServer.start(deployer.frameScoring(), deployer.cellSlot().name(), frames,
                            framesMax);
                } catch (java.io.IOException e) {
                    deployer.close();
                    FileTrees.delete(data);
                    System.err.println("deployer: cannot take the server's requests at " + frames + ": " + e);
                    return 1;
                }
                System.out.println(FrameServer.ANNOUNCE + frameServer.address());
            }
            FrameServer framesToClose = frameServer;
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (framesToClose != null) {
                    framesToClose.close();
                }
                deployer.close();
                FileTrees.delete(data);
                LogSetup.stop();
                stopped.countDown();
            }, "deployer-cell-shutdown"));
            System.out.println("deployer cell serving on " + host + ":" + deployer.cellPort()
                    + " (/predict, /health, /v2, /metrics)");
            stopped.await();
            return 0;
        }

        /** Links (or copies) the server's runtime jars into this cell's own runtimes folder. */
        private static void linkRuntimes(Path from, Path to) throws java.io.IOException {
            if (!java.nio.file.Files.isDirectory(from)) {
                return;
            }
            java.nio.file.Files.createDirectories(to);
            try (java.util.stream.Stream<Path> jars = java.nio.file.Files.list(from)) {
                for (Path jar : jars.filter(p -> p.getFileName().toString().endsWith(".jar")).toList()) {
                    Path target = to.resolve(jar.getFileName());
                    try {
                        java.nio.file.Files.createLink(target, jar);
                    } catch (java.io.IOException | UnsupportedOperationException e) {
                        java.nio.file.Files.copy(jar, target);
                    }
                }
            }
        }
    }
}
