package deployer.pack;

import deployer.core.DeployerException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * A package folder being filled entry by entry, from an archive or from upload parts. It is the one place that turns
 * a client's path into a file: every name passes {@link PackagePath#check}, the resolved file must stay inside the
 * folder, files are created new (never overwritten), and the entry count and the bytes actually written are capped.
 * Not thread-safe: one upload fills one folder.
 */
final class PackageFolder {

    private final Path root;
    private final PackLimits limits;
    private final Set<String> files = new HashSet<>();
    private final Set<String> folders = new HashSet<>();
    private final Set<String> folderEntries = new HashSet<>();
    private int entries;
    private long bytesWritten;

    /** Creates the folder, which must not exist yet: a package never lands on top of another. */
    PackageFolder(Path root, PackLimits limits) throws IOException {
        this.root = Files.createDirectory(root.toAbsolutePath().normalize());
        this.limits = limits;
    }

    Path root() {
        return root;
    }

    boolean hasFile(String path) {
        return files.contains(path);
    }

    /** Adds a folder entry; the package root itself ({@code ./}) is accepted and ignored. */
    void addFolder(String raw) throws IOException {
        String path = PackagePath.check(raw, true);
        count(raw);
        if (path.isEmpty()) {
            return;
        }
        if (files.contains(path)) {
            throw PackagePath.refuse(raw, "is a folder, but the package also has a file '" + path + "'");
        }
        if (!folderEntries.add(path)) {
            throw PackagePath.refuse(raw, "appears twice in the package");
        }
        makeFolders(raw, path);
    }

    /**
     * Adds a file entry and copies its content.
     *
     * @return the bytes written
     * @throws ReadFailure when reading {@code content} fails
     * @throws IOException when writing fails
     */
    long addFile(String raw, InputStream content) throws IOException {
        String path = PackagePath.check(raw, false);
        count(raw);
        if (files.contains(path)) {
            throw PackagePath.refuse(raw, "appears twice in the package");
        }
        if (folders.contains(path)) {
            throw PackagePath.refuse(raw, "is a file, but the package also has a folder '" + path + "/'");
        }
        int slash = path.lastIndexOf('/');
        if (slash > 0) {
            makeFolders(raw, path.substring(0, slash));
        }
        files.add(path);
        Path target = inside(raw, path);
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            return copy(content, out);
        } catch (FileAlreadyExistsException e) {
            // The sets above should have caught this; the disk is the second guard.
            throw PackagePath.refuse(raw, "appears twice in the package");
        }
    }

    private void count(String raw) {
        if (++entries > limits.maxEntries()) {
            throw DeployerException.badRequest("the package has more than " + limits.maxEntries()
                    + " entries (at " + PackagePath.quote(raw) + "); pack fewer, larger files");
        }
    }

    private void makeFolders(String raw, String path) throws IOException {
        int from = 0;
        while (from <= path.length()) {
            int slash = path.indexOf('/', from);
            String folder = slash < 0 ? path : path.substring(0, slash);
            if (files.contains(folder)) {
                throw PackagePath.refuse(raw, "needs '" + folder + "' to be a folder, but it is a file in the package");
            }
            folders.add(folder);
            from = slash < 0 ? path.length() + 1 : slash + 1;
        }
        Files.createDirectories(inside(raw, path));
    }

    private Path inside(String raw, String path) {
        Path target = root.resolve(path).normalize();
        if (!target.startsWith(root) || target.equals(root)) {
            throw PackagePath.refuse(raw, "leaves the package folder");
        }
        return target;
    }

    /** Copies while counting, and stops before the cap: an archive's own size fields are not to be trusted. */
    private long copy(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long copied = 0;
        while (true) {
            int n;
            try {
                n = in.read(buffer);
            } catch (ReadFailure | DeployerException e) {
                throw e;
            } catch (IOException e) {
                throw new ReadFailure(e);
            }
            if (n < 0) {
                return copied;
            }
            if (bytesWritten + n > limits.maxUnpackedBytes()) {
                throw DeployerException.tooLarge("the package unpacks to more than " + limits.maxUnpackedBytes()
                        + " bytes, the server's limit");
            }
            out.write(buffer, 0, n);
            bytesWritten += n;
            copied += n;
        }
    }
}
