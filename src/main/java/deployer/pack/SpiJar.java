package deployer.pack;

import deployer.spi.Model;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Writes the SPI classes ({@code deployer/spi/*.class}) into a small jar: the class path serving scripts compile
 * against, holding the contract and nothing of the server. The classes are found where {@link Model} was loaded
 * from, which is {@code target/classes} in a build and the shaded jar in production.
 */
public final class SpiJar {

    static final String PACKAGE = "deployer/spi/";
    /** A fixed time makes the jar the same bytes every time it is written from the same classes. */
    private static final long ENTRY_TIME = 315_532_800_000L;

    private SpiJar() {
    }

    /**
     * Writes the SPI jar, replacing {@code target} atomically (a temporary file moved over it), so a compiler reading
     * the old jar never sees half a new one.
     *
     * @param target where to write, e.g. {@code <data>/spi.jar}; its folder is created when missing
     * @return {@code target}
     * @throws UncheckedIOException when the classes cannot be read or the jar cannot be written
     */
    public static Path write(Path target) {
        CodeSource source = Model.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            throw new IllegalStateException("cannot tell where " + Model.class.getName() + " was loaded from");
        }
        try {
            return write(target, Path.of(source.getLocation().toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot read the location of " + Model.class.getName(), e);
        }
    }

    /** Writes the jar from a classes folder or a jar holding {@code deployer/spi/}. */
    static Path write(Path target, Path classes) {
        Objects.requireNonNull(target, "target");
        Path absolute = target.toAbsolutePath();
        try {
            Files.createDirectories(absolute.getParent());
            Path temp = Files.createTempFile(absolute.getParent(), absolute.getFileName() + ".", ".tmp");
            try {
                try (OutputStream file = Files.newOutputStream(temp);
                     JarOutputStream jar = new JarOutputStream(file, manifest())) {
                    if (Files.isDirectory(classes)) {
                        copyFromFolder(classes, jar);
                    } else {
                        copyFromJar(classes, jar);
                    }
                }
                move(temp, target);
            } finally {
                Files.deleteIfExists(temp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the SPI jar " + target, e);
        }
    }

    private static java.util.jar.Manifest manifest() {
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        return manifest;
    }

    private static void copyFromFolder(Path classes, JarOutputStream jar) throws IOException {
        Path spi = classes.resolve(PACKAGE);
        List<Path> files;
        try (Stream<Path> children = Files.list(spi)) {
            files = children.filter(file -> isSpiClass(PACKAGE + file.getFileName())).sorted().toList();
        }
        for (Path file : files) {
            try (InputStream in = Files.newInputStream(file)) {
                add(jar, PACKAGE + file.getFileName(), in);
            }
        }
    }

    private static void copyFromJar(Path source, JarOutputStream jar) throws IOException {
        try (JarFile from = new JarFile(source.toFile())) {
            List<JarEntry> entries = new ArrayList<>();
            for (Enumeration<JarEntry> all = from.entries(); all.hasMoreElements(); ) {
                JarEntry entry = all.nextElement();
                if (isSpiClass(entry.getName())) {
                    entries.add(entry);
                }
            }
            entries.sort((a, b) -> a.getName().compareTo(b.getName()));
            for (JarEntry entry : entries) {
                try (InputStream in = from.getInputStream(entry)) {
                    add(jar, entry.getName(), in);
                }
            }
        }
    }

    /** Classes directly in deployer/spi/ (nested classes included), not sub-packages or resources. */
    static boolean isSpiClass(String name) {
        return name.startsWith(PACKAGE) && name.endsWith(".class") && name.indexOf('/', PACKAGE.length()) < 0;
    }

    private static void add(JarOutputStream jar, String name, InputStream content) throws IOException {
        JarEntry entry = new JarEntry(name);
        entry.setTime(ENTRY_TIME);
        jar.putNextEntry(entry);
        content.transferTo(jar);
        jar.closeEntry();
    }

    private static void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
