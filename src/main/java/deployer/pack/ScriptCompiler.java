package deployer.pack;

import deployer.core.FileTrees;
import deployer.core.DeployerException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles a package's serving scripts ({@code serving/**.java}) in-process with the JDK's compiler, against the
 * package's own jars and the SPI and nothing else, so a script cannot reach the server's internals even at compile
 * time. Thread-safe: every call builds its own compilation task.
 */
public final class ScriptCompiler {

    static final String SERVING = "serving";
    /** Where a ServiceLoader file beside the scripts lives; copied so the cell can find the model by it. */
    static final String SERVICES = "META-INF/services";
    /** javac stops reporting after this many, and so do we: the first errors are the ones to fix. */
    private static final int MAX_DIAGNOSTICS = 100;
    /** Written beside the classes once a compile finished. */
    static final String COMPILED_MARK = ".complete";

    private final Path spiJar;

    /**
     * @param spiJar a class path entry holding {@code deployer.spi} (see {@link SpiJar#write})
     */
    public ScriptCompiler(Path spiJar) {
        this.spiJar = Objects.requireNonNull(spiJar, "spiJar");
    }

    /** Where a package's compiled scripts live: {@code .deployer/classes} inside the package folder. */
    public static Path classesOf(Path packageDir) {
        return packageDir.resolve(".deployer").resolve("classes");
    }

    /**
     * Compiles the package's scripts into {@link #classesOf} once: the folder never changes after upload, so a
     * finished compile (marked by {@value #COMPILED_MARK} beside the classes) is kept and reused on the next start.
     *
     * @return whether the package has scripts
     * @throws DeployerException BAD_REQUEST as {@link #compile} does
     * @throws UncheckedIOException when reading the package or writing the classes fails
     * @throws IOException when the mark of a finished compile cannot be written
     */
    public boolean compileOnce(Path packageDir) throws IOException {
        Path classes = classesOf(packageDir);
        if (Files.exists(classes.resolve(COMPILED_MARK))) {
            return true;
        }
        boolean compiled = compile(packageDir, classes);
        if (compiled) {
            Files.createFile(classes.resolve(COMPILED_MARK));
        }
        return compiled;
    }

    /**
     * Compiles {@code packageDir/serving/**.java} against {@code packageDir/*.jar}, {@code packageDir/lib/*.jar} and
     * the SPI into {@code classesDir}, which is created and emptied first; {@code serving/META-INF/services/**} is
     * copied beside the classes.
     *
     * @return false, having written nothing, when the package has no serving scripts
     * @throws DeployerException BAD_REQUEST holding javac's messages as {@code serving/X.java:12: error: ...}, with
     *     paths relative to the package; or when no compiler is available (a JRE)
     * @throws UncheckedIOException when reading the package or writing the classes fails
     */
    public boolean compile(Path packageDir, Path classesDir) {
        Objects.requireNonNull(classesDir, "classesDir");
        // Absolute, so that javac's source paths relativize against it for the messages.
        Path root = Objects.requireNonNull(packageDir, "packageDir").toAbsolutePath().normalize();
        try {
            List<Path> sources = sources(root);
            if (sources.isEmpty()) {
                return false;
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac == null) {
                throw DeployerException.badRequest(
                        "serving scripts need a JDK, not a JRE: run deployer with a JDK 17+ java");
            }
            FileTrees.emptyFolder(classesDir);
            String errors = run(javac, root, sources, classesDir);
            if (errors != null) {
                FileTrees.emptyFolder(classesDir);
                throw DeployerException.badRequest("serving scripts do not compile:\n" + errors);
            }
            copyServices(root.resolve(SERVING).resolve(SERVICES), classesDir.resolve(SERVICES));
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> sources(Path packageDir) throws IOException {
        Path serving = packageDir.resolve(SERVING);
        if (!Files.isDirectory(serving)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(serving)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".java") && Files.isRegularFile(file))
                    .sorted()
                    .toList();
        }
    }

    /** @return javac's errors, one per line in file:line form; null when compilation succeeded */
    private String run(JavaCompiler javac, Path packageDir, List<Path> sources, Path classesDir) throws IOException {
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files =
                     javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
            List<String> options = List.of(
                    "--release", "17", "-proc:none", "-encoding", "UTF-8", "-g", "-implicit:none",
                    "-d", classesDir.toString(),
                    "-classpath", classPath(packageDir));
            Iterable<? extends JavaFileObject> units = files.getJavaFileObjectsFromPaths(sources);
            boolean ok = javac.getTask(null, files, diagnostics, options, null, units).call();
            if (ok) {
                return null;
            }
        }
        List<String> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR && errors.size() < MAX_DIAGNOSTICS) {
                errors.add(format(packageDir, d));
            }
        }
        return errors.isEmpty() ? "javac failed without a message" : String.join("\n", errors);
    }

    /** The package's jars then the SPI; no server class is on this path. */
    private String classPath(Path packageDir) throws IOException {
        List<Path> entries = new ArrayList<>(jars(packageDir));
        entries.addAll(jars(packageDir.resolve("lib")));
        entries.add(spiJar);
        return entries.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
    }

    private static List<Path> jars(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".jar") && Files.isRegularFile(file))
                    .sorted()
                    .toList();
        }
    }

    /**
     * javac's own format, with the path made relative to the package: {@code serving/X.java:12: error: ...}, then
     * the source line and a caret under the column, then the message's other lines ({@code symbol: ...}), so two
     * errors on one line read apart.
     */
    private static String format(Path packageDir, Diagnostic<? extends JavaFileObject> d) {
        String message = d.getMessage(Locale.ROOT);
        if (d.getSource() == null) {
            return "error: " + message;
        }
        Path source = Path.of(d.getSource().toUri());
        String where = source.startsWith(packageDir)
                ? packageDir.relativize(source).toString().replace(File.separatorChar, '/')
                : source.getFileName().toString();
        String[] lines = message.split("\n", -1);
        StringBuilder text = new StringBuilder(where + ":" + d.getLineNumber() + ": error: " + lines[0]);
        String line = sourceLine(d);
        if (line != null) {
            text.append('\n').append(line).append('\n').append(caret(line, d.getColumnNumber()));
        }
        for (int i = 1; i < lines.length; i++) {
            text.append('\n').append(lines[i]);
        }
        return text.toString();
    }

    /** The diagnostic's source line, without its line break; null when javac gave no position. */
    private static String sourceLine(Diagnostic<? extends JavaFileObject> d) {
        if (d.getLineNumber() == Diagnostic.NOPOS || d.getLineNumber() < 1) {
            return null;
        }
        try {
            CharSequence content = d.getSource().getCharContent(true);
            String[] all = content.toString().split("\r\n|\r|\n", -1);
            return d.getLineNumber() <= all.length ? all[(int) d.getLineNumber() - 1].stripTrailing() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Spaces (tabs where the line has tabs, so it lines up) up to the 1-based column, then {@code ^}. */
    static String caret(String line, long column) {
        StringBuilder caret = new StringBuilder();
        for (int i = 0; i < column - 1; i++) {
            caret.append(i < line.length() && line.charAt(i) == '\t' ? '\t' : ' ');
        }
        return caret.append('^').toString();
    }

    private static void copyServices(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            return;
        }
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(file)) {
                    Path target = to.resolve(from.relativize(file).toString());
                    Files.createDirectories(target.getParent());
                    Files.copy(file, target);
                }
            }
        }
    }
}
