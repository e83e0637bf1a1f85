package deployer.bench;

import deployer.core.FileTrees;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.ToolProvider;

/** Row 7: from {@code java -jar} to the first answer, the deployer against a bare Jetty jar answering "hello". */
final class StartupRow {

    private static final String HELLO = """
            import java.nio.ByteBuffer;
            import java.nio.charset.StandardCharsets;
            import org.eclipse.jetty.server.Handler;
            import org.eclipse.jetty.server.Request;
            import org.eclipse.jetty.server.Response;
            import org.eclipse.jetty.server.Server;
            import org.eclipse.jetty.server.ServerConnector;
            import org.eclipse.jetty.util.Callback;

            public class Hello {
                public static void main(String[] args) throws Exception {
                    Server server = new Server();
                    ServerConnector connector = new ServerConnector(server);
                    connector.setHost("127.0.0.1");
                    connector.setPort(Integer.parseInt(args[0]));
                    server.addConnector(connector);
                    server.setHandler(new Handler.Abstract() {
                        @Override
                        public boolean handle(Request request, Response response, Callback callback) {
                            response.write(true, ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)), callback);
                            return true;
                        }
                    });
                    server.start();
                    server.join();
                }
            }
            """;
    /** A class of each jar a Jetty 12 core server needs at run time. */
    private static final List<Class<?>> JETTY = List.of(org.eclipse.jetty.server.Server.class,
            org.eclipse.jetty.http.HttpField.class, org.eclipse.jetty.io.EndPoint.class,
            org.eclipse.jetty.util.Callback.class, org.slf4j.Logger.class);

    private final Options options;

    StartupRow(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("startup"));
        try {
            Path hello = helloJar(work);
            // bin/deployer starts the server with a class data sharing archive; the bare jar gets one made the same
            // way, so that side of the comparison is measured with it too.
            Optional<Path> archive = options.jar().flatMap(StartupRow::deployerArchive);
            Optional<Path> helloArchive = archive.isPresent() ? helloArchive(hello, work) : Optional.empty();
            List<Double> deployer = new ArrayList<>();
            List<Double> bare = new ArrayList<>();
            List<Double> deployerShared = new ArrayList<>();
            List<Double> bareShared = new ArrayList<>();
            for (int i = 0; i < options.startups(); i++) {
                bare.add(timeHello(List.of(), hello, work));
                deployer.add(timeDeployer(List.of(), work, "data-" + i));
                if (archive.isPresent() && helloArchive.isPresent()) {
                    bareShared.add(timeHello(List.of(shared(helloArchive.get())), hello, work));
                    deployerShared.add(timeDeployer(List.of(shared(archive.get()), "-Xlog:cds=off",
                            "-Xlog:cds+dynamic=off"), work, "data-shared-" + i));
                }
            }
            double d = median(deployer);
            double b = median(bare);
            String how = options.jar().isPresent() ? "`java -jar deployer.jar`" : "`java -cp … deployer.Main`";
            String what = " to the first answer on `/api/models` (fresh data folder, median of " + options.startups()
                    + ")";
            table.add(new Table.Row(7, how + what, Table.millis(d), "bare Jetty jar answering \"hello\": "
                    + Table.millis(b), Table.ratio(d / b), "≤ 1.5×", Table.met(d / b <= 1.5)));
            if (!deployerShared.isEmpty()) {
                double ds = median(deployerShared);
                double bs = median(bareShared);
                table.add(new Table.Row(7, "`bin/deployer serve` (the same jar with its class archive, "
                        + "`-XX:SharedArchiveFile`)" + what, Table.millis(ds), "bare Jetty jar as above: "
                        + Table.millis(b) + "; the bare jar with a class archive of its own: " + Table.millis(bs),
                        Table.ratio(ds / b) + " (" + Table.ratio(ds / bs) + " of the bare jar with its archive)",
                        "≤ 1.5×", Table.met(ds / b <= 1.5)));
            }
        } finally {
            FileTrees.delete(work);
        }
    }

    private double timeHello(List<String> jvm, Path hello, Path work) throws Exception {
        List<String> command = new ArrayList<>(List.of(Child.java()));
        command.addAll(jvm);
        command.addAll(List.of("-jar", hello.toString(), String.valueOf(Child.freePort())));
        return time(command, null, "/", work.resolve("hello.log"));
    }

    private double timeDeployer(List<String> jvm, Path work, String data) throws Exception {
        int port = Child.freePort();
        List<String> command = new ArrayList<>(List.of(Child.java()));
        command.addAll(jvm);
        if (options.jar().isPresent()) {
            command.addAll(List.of("-jar", options.jar().get().toString()));
        } else {
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), "deployer.Main"));
        }
        command.addAll(List.of("serve", "--port", String.valueOf(port), "--data", work.resolve(data).toString(),
                "--token", Api.TOKEN, "--cell-ports", "0"));
        return timeOnPort(command, port, work.resolve("deployer.log"));
    }

    private static String shared(Path archive) {
        return "-XX:SharedArchiveFile=" + archive;
    }

    /** The archive bin/deployer would use for this jar, made by bin/cds-archive; empty when it cannot be made. */
    private static Optional<Path> deployerArchive(Path jar) {
        Path script = Path.of("bin", "cds-archive");
        if (!Files.isExecutable(script)) {
            return Optional.empty();
        }
        try {
            Process p = new ProcessBuilder(script.toString(), jar.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && !out.isEmpty() ? Optional.of(Path.of(out)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The bare jar's archive, made as bin/cds-archive makes the server's: one start, one answer, a clean stop. */
    private static Optional<Path> helloArchive(Path hello, Path work) throws Exception {
        Path archive = work.resolve("hello.jsa");
        int port = Child.freePort();
        try (Child child = Child.start(List.of(Child.java(), "-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off",
                "-Xlog:cds+dynamic=off", "-jar", hello.toString(), String.valueOf(port)), work.resolve("hello.log"))) {
            child.awaitAnswer(port, "/", null, 60_000);
        }
        return Files.isRegularFile(archive) ? Optional.of(archive) : Optional.empty();
    }

    private static double time(List<String> command, String token, String path, Path log) throws Exception {
        int port = Integer.parseInt(command.get(command.size() - 1));
        long start = System.nanoTime();
        try (Child child = Child.start(command, log)) {
            child.awaitAnswer(port, path, token, 60_000);
            return (System.nanoTime() - start) / 1e6;
        }
    }

    private static double timeOnPort(List<String> command, int port, Path log) throws Exception {
        long start = System.nanoTime();
        try (Child child = Child.start(command, log)) {
            child.awaitAnswer(port, "/api/models", Api.TOKEN, 60_000);
            return (System.nanoTime() - start) / 1e6;
        }
    }

    /** Compiles Hello against the Jetty jars of this class path and packs it with them into one runnable jar. */
    private static Path helloJar(Path work) throws IOException {
        List<Path> jars = new ArrayList<>();
        for (Class<?> c : JETTY) {
            try {
                jars.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()));
            } catch (java.net.URISyntaxException e) {
                throw new IOException(e);
            }
        }
        Path src = Files.createDirectories(work.resolve("hello-src"));
        Path classes = Files.createDirectories(work.resolve("hello-classes"));
        Files.writeString(src.resolve("Hello.java"), HELLO);
        String cp = String.join(File.pathSeparator, jars.stream().map(Path::toString).toList());
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), "--release",
                "17", "-cp", cp, src.resolve("Hello.java").toString());
        if (rc != 0) {
            throw new IOException("Hello.java did not compile");
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Hello");
        Path jar = work.resolve("hello.jar");
        Set<String> seen = new HashSet<>();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            try (var files = Files.list(classes)) {
                for (Path file : files.toList()) {
                    seen.add(file.getFileName().toString());
                    out.putNextEntry(new JarEntry(file.getFileName().toString()));
                    out.write(Files.readAllBytes(file));
                    out.closeEntry();
                }
            }
            for (Path dependency : jars) {
                try (JarFile in = new JarFile(dependency.toFile())) {
                    for (JarEntry entry : java.util.Collections.list(in.entries())) {
                        String name = entry.getName();
                        if (entry.isDirectory() || name.startsWith("META-INF/") && !name.startsWith("META-INF/services/")
                                || name.endsWith("module-info.class") || !seen.add(name)) {
                            continue;
                        }
                        out.putNextEntry(new JarEntry(name));
                        try (InputStream data = in.getInputStream(entry)) {
                            data.transferTo(out);
                        }
                        out.closeEntry();
                    }
                }
            }
        }
        return jar;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
