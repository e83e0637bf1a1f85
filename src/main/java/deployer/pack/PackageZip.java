package deployer.pack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A stored version's package as one zip, streamed: what {@code GET /api/deployments/{id}/package} answers and what
 * {@code deployer export} puts in an image. It holds the package's own files and the classes the server compiled
 * from its scripts ({@code .deployer/classes}), so it serves where there is no compiler; the server's other
 * bookkeeping under {@code .deployer/} stays out.
 */
public final class PackageZip {

    /** Where a cell keeps what the server compiled from {@code serving/*.java}, inside a version's folder. */
    public static final String CLASSES = ".deployer/classes/";

    private PackageZip() {
    }

    /** Writes {@code folder} as a zip to {@code out}, entries in a stable order, without closing {@code out}. */
    public static void write(Path folder, OutputStream out) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path file : files) {
            String name = folder.relativize(file).toString().replace(java.io.File.separatorChar, '/');
            if (name.startsWith(".deployer/") && !name.startsWith(CLASSES)) {
                continue;
            }
            zip.putNextEntry(new ZipEntry(name));
            Files.copy(file, zip);
            zip.closeEntry();
        }
        zip.finish();
        zip.flush();
    }

    /**
     * Unpacks a zip that {@link #write} made into the empty or new folder {@code target}, refusing any entry that
     * would land outside it.
     */
    public static void unpack(InputStream in, Path target) throws IOException {
        Files.createDirectories(target);
        Path root = target.toAbsolutePath().normalize();
        try (ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                Path file = root.resolve(entry.getName()).normalize();
                if (!file.startsWith(root) || file.equals(root)) {
                    throw new IOException("the package holds an entry outside its folder: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(file);
                    continue;
                }
                Files.createDirectories(file.getParent());
                try {
                    Files.copy(zip, file);
                } catch (FileAlreadyExistsException e) {
                    throw new IOException("the package holds " + entry.getName() + " twice", e);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
