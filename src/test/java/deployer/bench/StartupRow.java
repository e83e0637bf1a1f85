package deployer.bench;

import deployer.FileTrees;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
            List<Double> deployer = new ArrayList<>();
            List<Double> bare = new ArrayList<>();
            for (int i = 0; i < options.startups(); i++) {
                bare.add(time(List.of(Child.java(), "-jar", hello.toString(), String.valueOf(Child.freePort())),
                        null, "/", work.resolve("hello.log")));
                int port = Child.freePort();
                Path data = work.resolve("data-" + i);
                List<String> command = new ArrayList<>(List.of(Child.java()));
                if (options.jar().isPresent()) {
                    command.addAll(List.of("-jar", options.jar().get().toString()));
                } else {
                    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "deployer.Main"));
                }
                command.addAll(List.of("serve", "--port", String.valueOf(port), "--data", data.toString(),
                        "--token", Api.TOKEN, "--cell-ports", "0"));
                deployer.add(timeOnPort(command, port, work.resolve("deployer.log")));
            }
            double d = median(deployer);
            double b = median(bare);
            String how = options.jar().isPresent() ? "`java -jar deployer.jar`" : "`java -cp … deployer.Main`";
            table.add(new Table.Row(7, how + " to the first answer on `/api/models` (fresh data folder, median of "
                    + options.startups() + ")", Table.millis(d), "bare Jetty jar answering \"hello\": "
                    + Table.millis(b), Table.ratio(d / b), "≤ 1.5×", Table.met(d / b <= 1.5)));
        } finally {
            FileTrees.delete(work);
        }
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
