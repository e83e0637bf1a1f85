package deployer.pack;

import deployer.core.DeployerException;
import deployer.spi.Model;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Checks, before an upload is recorded, that a package without {@code "entry"} names exactly one model class in the
 * service files a cell would read: {@code serving/META-INF/services/deployer.spi.Model} and that file inside the
 * package's {@code *.jar} and {@code lib/*.jar}. A package that names none, or two, is refused with a 400 instead of
 * becoming a version that can only fail. Whether the named class exists and implements {@code Model} takes compiling
 * and loading, which happens when the cell starts (a FAILED deploy with the reason). A no-code package
 * ({@code "runtime"}) is its runtime's to check.
 */
public final class ModelClasses {

    private static final String SERVICE_FILE = "META-INF/services/" + Model.class.getName();
    /** A service file names a class or two; a larger one is not a service file. */
    private static final int MAX_SERVICE_FILE_BYTES = 64 * 1024;

    private ModelClasses() {
    }

    /**
     * @throws DeployerException BAD_REQUEST when no {@code entry} is given and the service files name no class or
     *     more than one, or a jar to look in is not readable
     */
    public static void check(Path directory, Manifest manifest) {
        if (manifest.runtime() != null || manifest.entry() != null) {
            return;
        }
        entryOf(directory);
    }

    /**
     * The one model class the package in {@code directory} names in its service files: what a cell serves when
     * {@code deploy.json} gives no {@code "entry"} (the cell factory asks here, so the files are read one way).
     *
     * @throws DeployerException BAD_REQUEST when the service files name no class or more than one, or a jar to look
     *     in is not readable
     * @throws UncheckedIOException when the package's folder cannot be read
     */
    public static String entryOf(Path directory) {
        Set<String> names = new LinkedHashSet<>();
        try {
            Path serving = directory.resolve("serving").resolve(SERVICE_FILE);
            if (Files.isRegularFile(serving, LinkOption.NOFOLLOW_LINKS)) {
                try (InputStream in = Files.newInputStream(serving)) {
                    read(in, names);
                }
            }
            for (Path jar : jars(directory)) {
                readJar(directory, jar, names);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (names.isEmpty()) {
            throw DeployerException.badRequest("no model class found: set \"entry\" in deploy.json to your Model"
                    + " class, or list it in " + SERVICE_FILE + " inside a jar (or in serving/" + SERVICE_FILE + ")");
        }
        if (names.size() > 1) {
            throw DeployerException.badRequest("more than one model class found in " + SERVICE_FILE + ": "
                    + String.join(", ", names) + "; set \"entry\" in deploy.json to the one to serve");
        }
        return names.iterator().next();
    }

    private static List<Path> jars(Path directory) throws IOException {
        List<Path> jars = new ArrayList<>();
        for (Path folder : List.of(directory, directory.resolve("lib"))) {
            if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (Stream<Path> files = Files.list(folder)) {
                files.filter(f -> f.getFileName().toString().endsWith(".jar"))
                        .filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                        .sorted().forEach(jars::add);
            }
        }
        return jars;
    }

    private static void readJar(Path directory, Path jar, Set<String> names) {
        String shown = directory.relativize(jar).toString();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(SERVICE_FILE);
            if (entry != null && !entry.isDirectory()) {
                try (InputStream in = zip.getInputStream(entry)) {
                    read(in, names);
                }
            }
        } catch (IOException e) {
            throw DeployerException.badRequest(shown + " is not a readable jar (" + e.getMessage() + ")");
        }
    }

    /** Adds the class names of one service file: a name per line, {@code #} starts a comment. */
    private static void read(InputStream in, Set<String> names) throws IOException {
        byte[] bytes = in.readNBytes(MAX_SERVICE_FILE_BYTES + 1);
        if (bytes.length > MAX_SERVICE_FILE_BYTES) {
            throw DeployerException.badRequest(SERVICE_FILE + " is larger than " + MAX_SERVICE_FILE_BYTES
                    + " bytes; it should name one class");
        }
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(
                new java.io.ByteArrayInputStream(bytes), StandardCharsets.UTF_8))) {
            lines.lines().map(l -> l.replaceFirst("#.*", "").trim()).filter(l -> !l.isEmpty()).forEach(names::add);
        }
    }
}
