package deployer.runtime;

import deployer.core.DeployerException;
import deployer.pack.Manifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The no-code runtimes as the server sees them (DESIGN 1.9): the class that serves a {@code "runtime": "onnx"}
 * package, which of the server's classes its cell's loader must define itself, and the ONNX Runtime jar that cell
 * gets when its package carries none: the newest {@code onnxruntime-*.jar} in {@code <data>/runtimes/}.
 *
 * <p><b>Why the runtime's classes are defined by each cell's loader.</b> {@code deployer.runtime.onnx} is compiled
 * into {@code deployer.jar} against ONNX Runtime, but ONNX Runtime itself is not in the server (89 MiB, and a
 * native library a JVM lets one class loader load). A cell's loader, asked for a class of that package, reads its
 * bytes from the server's jar and defines it itself, so it links against the ONNX Runtime that cell sees, is
 * collected with the cell, and counts as the model's code for the exit guard. The other way, a second jar built at
 * build time and carried as a resource, would need a second compile and a file to unpack per server for the same
 * result.
 */
public final class Runtimes {

    /** The model class of {@code "runtime": "onnx"}. */
    public static final String ONNX_ENTRY = "deployer.runtime.onnx.OnnxModel";
    /** The classes a cell's loader defines from the server's jar for {@code "runtime": "onnx"}. */
    public static final String ONNX_PACKAGE = "deployer.runtime.onnx.";
    /** What {@code deployer.runtime.onnx.OnnxModel} reads to find its graph (kept in step with it). */
    public static final String CONFIG_FILE = "runtime.properties";

    private static final Pattern ONNX_RUNTIME_JAR = Pattern.compile("onnxruntime-(\\d+(?:\\.\\d+)*)\\.jar");

    private final Path folder;
    /** False for a folder that is only read ({@code deployer run}): {@link #adopt} then keeps nothing. */
    private final boolean adopts;

    /** @param folder {@code <data>/runtimes}: where the server's own copies of runtime jars are kept */
    public Runtimes(Path folder) {
        this(folder, true);
    }

    private Runtimes(Path folder, boolean adopts) {
        this.folder = folder;
        this.adopts = adopts;
    }

    /** The runtimes of {@code folder}, read but never written: what a package carries is not kept there. */
    public static Runtimes readOnly(Path folder) {
        return new Runtimes(folder, false);
    }

    public Path folder() {
        return folder;
    }

    /** The class that serves the package: the runtime's, or the manifest's {@code entry} (null: the service file). */
    public static String entry(Manifest manifest) {
        return manifest.runtime() == null ? manifest.entry() : ONNX_ENTRY;
    }

    /** The package prefix of the classes the cell's loader must define itself; null when there are none. */
    public static String ownClasses(Manifest manifest) {
        return manifest.runtime() == null ? null : ONNX_PACKAGE;
    }

    /**
     * Checks at upload that a runtime package has its graph: the {@code model} file, or exactly one {@code *.onnx}.
     *
     * @return the graph's path inside the package; null for a package without a runtime
     * @throws DeployerException BAD_REQUEST naming what is missing
     */
    public static String checkPackage(Path directory, Manifest manifest) {
        if (manifest.runtime() == null) {
            return null;
        }
        if (manifest.model() != null) {
            if (!Files.isRegularFile(directory.resolve(manifest.model()), LinkOption.NOFOLLOW_LINKS)) {
                throw DeployerException.badRequest("deploy.json: model names " + manifest.model() + ", which is not"
                        + " a file in the package");
            }
            return manifest.model();
        }
        try (Stream<Path> files = Files.walk(directory)) {
            List<String> graphs = files.filter(f -> f.getFileName().toString().endsWith(".onnx"))
                    .filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                    .map(f -> directory.relativize(f).toString().replace('\\', '/')).sorted().toList();
            if (graphs.size() != 1) {
                throw DeployerException.badRequest("runtime onnx needs one .onnx file in the package, found "
                        + (graphs.isEmpty() ? "none" : graphs.size() + " (" + String.join(", ", graphs)
                        + "); name the one to serve with \"model\" in deploy.json"));
            }
            return graphs.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Before a runtime cell starts: writes {@code .deployer/runtime.properties} naming the graph, and finds the jars
     * the runtime needs besides the package's own.
     *
     * @return the jars to put on the cell's class path after the package's: the server's ONNX Runtime when the
     *     package has no {@code lib/onnxruntime-*.jar}; empty for a package without a runtime
     * @throws IllegalStateException when neither the package nor the server has ONNX Runtime, saying how to get it
     */
    public List<Path> prepare(Path directory, Manifest manifest) {
        if (manifest.runtime() == null) {
            return List.of();
        }
        String graph = checkPackage(directory, manifest);
        try {
            Path config = directory.resolve(".deployer").resolve(CONFIG_FILE);
            Files.createDirectories(config.getParent());
            Files.writeString(config, "# written by the server: the graph runtime onnx serves\nmodel="
                    + graph.replace("\\", "\\\\") + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (newestOnnxRuntime(directory.resolve("lib")).isPresent()) {
            return List.of();
        }
        return List.of(newestOnnxRuntime(folder).orElseThrow(() -> new IllegalStateException(
                "runtime onnx needs ONNX Runtime for Java, and neither the package (lib/onnxruntime-*.jar) nor the"
                        + " server (" + folder + "/onnxruntime-*.jar) has it; deploy a package that carries"
                        + " lib/onnxruntime-<version>.jar once, or copy it there (see the README, \"No-code"
                        + " ONNX\")")));
    }

    /** Keeps a copy of a package's {@code lib/onnxruntime-*.jar} as the server's, when the server has that version. */
    public void adopt(Path directory) {
        if (!adopts) {
            return;
        }
        Optional<Path> carried = newestOnnxRuntime(directory.resolve("lib"));
        if (carried.isEmpty()) {
            return;
        }
        Path target = folder.resolve(carried.get().getFileName());
        if (Files.exists(target)) {
            return;
        }
        try {
            Files.createDirectories(folder);
            Path temp = Files.createTempFile(folder, target.getFileName().toString(), ".tmp");
            try {
                Files.delete(temp);
                try {
                    Files.createLink(temp, carried.get().toRealPath());
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(carried.get(), temp);
                }
                Files.move(temp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code onnxruntime-<version>.jar} of the highest version in a folder. */
    static Optional<Path> newestOnnxRuntime(Path folder) {
        if (!Files.isDirectory(folder)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> ONNX_RUNTIME_JAR.matcher(f.getFileName().toString()).matches())
                    .filter(Files::isRegularFile)
                    .max(Comparator.comparing(f -> version(f.getFileName().toString()), Runtimes::compareVersions));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] version(String file) {
        Matcher m = ONNX_RUNTIME_JAR.matcher(file);
        if (!m.matches()) {
            return new int[0];
        }
        try {
            return Stream.of(m.group(1).split("\\.")).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            return new int[0];
        }
    }

    private static int compareVersions(int[] a, int[] b) {
        for (int i = 0; i < Math.max(a.length, b.length); i++) {
            int c = Integer.compare(i < a.length ? a[i] : 0, i < b.length ? b[i] : 0);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
