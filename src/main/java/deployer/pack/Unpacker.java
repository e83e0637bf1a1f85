package deployer.pack;

import deployer.core.FileTrees;
import deployer.core.DeployerException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks a {@code .zip} or {@code .tar.gz} into a new folder, refusing links, special files and any path that
 * {@link PackagePath} refuses. A nested archive is an ordinary file here; nothing is expanded twice. On failure the
 * folder is deleted, so a refused archive leaves nothing behind.
 */
final class Unpacker {

    /** The archive types a package may come in, told apart by their first bytes, never by a file name. */
    enum Type {
        ZIP(".zip"), TAR_GZ(".tar.gz");

        final String label;

        Type(String label) {
            this.label = label;
        }
    }

    // Unix file types in the high bits of st_mode, as zip's external attributes carry them.
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;

    private final PackLimits limits;

    Unpacker(PackLimits limits) {
        this.limits = limits;
    }

    /**
     * Tells the archive type from its magic bytes: zip {@code PK\3\4} (or {@code PK\5\6}, an empty zip), gzip
     * {@code 1f 8b}.
     *
     * @throws DeployerException BAD_REQUEST when it is neither
     */
    static Type detect(Path archive) throws IOException {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(archive)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n == 4 && head[0] == 'P' && head[1] == 'K'
                && (head[2] == 3 && head[3] == 4 || head[2] == 5 && head[3] == 6)) {
            return Type.ZIP;
        }
        if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return Type.TAR_GZ;
        }
        throw DeployerException.badRequest("package is neither a .zip nor a .tar.gz");
    }

    /**
     * Unpacks {@code archive} into {@code target}, which must not exist yet.
     *
     * @throws DeployerException BAD_REQUEST naming the entry and the rule it breaks, or a corrupt archive;
     *     TOO_LARGE when the unpacked bytes pass {@link PackLimits#maxUnpackedBytes()}
     * @throws UncheckedIOException when writing to our own disk fails
     */
    void unpack(Path archive, Path target) {
        Type type;
        try {
            type = detect(archive);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PackageFolder folder = null;
        try {
            folder = new PackageFolder(target, limits);
            if (type == Type.ZIP) {
                unzip(archive, folder);
            } else {
                untar(archive, folder);
            }
        } catch (ReadFailure e) {
            deleteQuietly(folder);
            throw DeployerException.badRequest("package is not a readable " + type.label + ": " + e.reason());
        } catch (IOException e) {
            deleteQuietly(folder);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(folder);
            throw e;
        }
    }

    private void unzip(Path archive, PackageFolder folder) throws IOException {
        ZipFile zip;
        try {
            zip = ZipFile.builder().setPath(archive).get();
        } catch (IOException e) {
            throw new ReadFailure(e);
        }
        try (zip) {
            // A zip lists its entries up front: refuse too many before writing the first (the folder counts again
            // as it writes, which is what catches a tar).
            int listed = Collections.list(zip.getEntries()).size();
            if (listed > limits.maxEntries()) {
                throw DeployerException.badRequest("the package has more than " + limits.maxEntries()
                        + " entries (it lists " + listed + "); pack fewer, larger files");
            }
            for (Enumeration<ZipArchiveEntry> all = zip.getEntries(); all.hasMoreElements(); ) {
                ZipArchiveEntry entry = all.nextElement();
                String name = entry.getName();
                if (entry.isUnixSymlink()) {
                    throw PackagePath.refuse(name, "is a symbolic link; a package holds plain files and folders only");
                }
                int fileType = entry.getPlatform() == ZipArchiveEntry.PLATFORM_UNIX ? entry.getUnixMode() & S_IFMT : 0;
                if (fileType != 0 && fileType != S_IFREG && fileType != S_IFDIR) {
                    throw PackagePath.refuse(name, "is a device, fifo or other special file; "
                            + "a package holds plain files and folders only");
                }
                if (entry.isDirectory() || fileType == S_IFDIR) {
                    folder.addFolder(name.endsWith("/") ? name : name + "/");
                    continue;
                }
                if (!zip.canReadEntryData(entry)) {
                    throw PackagePath.refuse(name, "uses a zip feature the server cannot read "
                            + "(encryption or an unusual compression method); zip it again without those");
                }
                InputStream content;
                try {
                    content = zip.getInputStream(entry);
                } catch (IOException e) {
                    throw new ReadFailure(e);
                }
                try (content) {
                    folder.addFile(name, content);
                }
            }
        }
    }

    private static void untar(Path archive, PackageFolder folder) throws IOException {
        try (InputStream file = new BufferedInputStream(Files.newInputStream(archive));
             TarArchiveInputStream tar = new TarArchiveInputStream(gunzip(file), "UTF-8")) {
            while (true) {
                TarArchiveEntry entry;
                try {
                    entry = tar.getNextEntry();
                } catch (IOException e) {
                    throw new ReadFailure(e);
                }
                if (entry == null) {
                    return;
                }
                String name = entry.getName();
                if (entry.isSymbolicLink()) {
                    throw PackagePath.refuse(name, "is a symbolic link; a package holds plain files and folders only");
                }
                if (entry.isLink()) {
                    throw PackagePath.refuse(name, "is a hard link; a package holds plain files and folders only");
                }
                if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
                    throw PackagePath.refuse(name, "is a device or fifo; a package holds plain files and folders only");
                }
                if (entry.isSparse()) {
                    throw PackagePath.refuse(name, "is a sparse file; pack it as a plain file");
                }
                if (entry.isDirectory()) {
                    folder.addFolder(name.endsWith("/") ? name : name + "/");
                } else if (entry.isFile()) {
                    folder.addFile(name, tar);
                } else {
                    throw PackagePath.refuse(name, "has a tar entry type the server does not unpack");
                }
            }
        }
    }

    private static InputStream gunzip(InputStream in) throws ReadFailure {
        try {
            // Concatenated members are legal gzip (pigz, cat a.gz b.gz) and must not end the archive early.
            return GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
        } catch (IOException e) {
            throw new ReadFailure(e);
        }
    }

    private static void deleteQuietly(PackageFolder folder) {
        if (folder != null) {
            FileTrees.deleteQuietly(folder.root());
        }
    }
}
