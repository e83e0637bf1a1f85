package deployer.pack;

import deployer.core.FileTrees;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * One received package, unpacked in its staging folder with a validated manifest. The caller moves
 * {@link #directory()} to its final place, or closes this to throw it away; closing after a move does nothing.
 */
public final class StagedPackage implements AutoCloseable {

    private final Path directory;
    private final Manifest manifest;
    private final String sha256;
    private final long size;

    StagedPackage(Path directory, Manifest manifest, String sha256, long size) {
        this.directory = directory;
        this.manifest = manifest;
        this.sha256 = sha256;
        this.size = size;
    }

    /**
     * @return {@code <stagingRoot>/<uuid>/}, holding the unpacked package with deploy.json at its root
     */
    public Path directory() {
        return directory;
    }

    /**
     * @return the package's validated deploy.json
     */
    public Manifest manifest() {
        return manifest;
    }

    /**
     * @return hex SHA-256 of the bytes received: the archive, or for the parts form each part's path, a NUL byte,
     *     its content and its length as 8 big-endian bytes, in the order sent
     */
    public String sha256() {
        return sha256;
    }

    /**
     * @return the package bytes received: the archive's size, or the sum of the parts' contents
     */
    public long size() {
        return size;
    }

    /** Deletes {@link #directory()} with everything in it, if it is still there. Idempotent; never throws. */
    @Override
    public void close() {
        if (Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            FileTrees.deleteQuietly(directory);
        }
    }

    @Override
    public String toString() {
        return "StagedPackage[" + manifest.name() + ", " + directory + ", " + size + " bytes]";
    }
}
