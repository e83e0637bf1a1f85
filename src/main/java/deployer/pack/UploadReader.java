package deployer.pack;

import deployer.core.Sha256;
import deployer.core.DeployerException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import org.apache.commons.fileupload2.core.FileItemInput;
import org.apache.commons.fileupload2.core.FileItemInputIterator;

/**
 * Reads the parts of one upload (DESIGN 1.2) as they stream in: either one part {@code package} written to the
 * archive file, or a part {@code manifest} and parts {@code file} written straight into the package folder. Nothing is
 * held in memory. One instance per request; the caller deletes what it wrote when anything fails.
 */
final class UploadReader {

    static final String HOW_TO = "send one part 'package' (a .zip or .tar.gz with deploy.json at its root), "
            + "or one part 'manifest' (the deploy.json text) plus parts 'file' whose filename is the path inside "
            + "the package (model/weights.bin)";
    static final String MANIFEST = "deploy.json";

    private final PackLimits limits;
    private final Path directory;
    private final Path archive;
    private final MessageDigest sha256;
    private PackageFolder folder;
    private boolean archiveReceived;
    private boolean manifestReceived;
    private final java.util.Map<String, String> stored = new java.util.LinkedHashMap<>();
    private int parts;
    private long size;

    UploadReader(PackLimits limits, Path directory, Path archive) {
        this.limits = limits;
        this.directory = directory;
        this.archive = archive;
        this.sha256 = Sha256.newDigest();
    }

    /**
     * Reads every part.
     *
     * @throws ReadFailure when the multipart body cannot be read
     * @throws IOException when writing to our own disk fails
     */
    void readAll(FileItemInputIterator items) throws IOException {
        while (hasNext(items)) {
            FileItemInput item = next(items);
            if (++parts > limits.maxParts()) {
                throw DeployerException.badRequest("the upload has more than " + limits.maxParts()
                        + " parts; send the files as one .zip or .tar.gz in the part 'package'");
            }
            String field = item.getFieldName();
            switch (field) {
                case "package" -> readPackage(item);
                case "manifest" -> readManifest(item);
                case "file" -> readFile(item);
                case "stored" -> readStored(item);
                default -> throw DeployerException.badRequest(
                        "unknown part " + PackagePath.quote(field) + "; " + HOW_TO);
            }
        }
        if (parts == 0) {
            throw DeployerException.badRequest("the upload has no parts; " + HOW_TO);
        }
    }

    /** @return true when the upload was one archive, still to be unpacked from {@link #archive} */
    boolean isArchive() {
        return archiveReceived;
    }

    /** @return true when the parts form carried deploy.json (as a part 'manifest' or a file named deploy.json) */
    boolean hasManifest() {
        return manifestReceived;
    }

    /** @return hex SHA-256 of the archive, or of each part's path, a NUL, its bytes and its length, in order */
    String sha256() {
        return Sha256.hex(sha256);
    }

    /** @return the parts {@code stored}: path inside the package → SHA-256 of a jar the server keeps */
    java.util.Map<String, String> stored() {
        return stored;
    }

    /** @return the package bytes received: the archive's size, or the sum of the parts' contents */
    long size() {
        return size;
    }

    private void readPackage(FileItemInput item) throws IOException {
        if (folder != null) {
            throw mixed();
        }
        if (archiveReceived) {
            throw DeployerException.badRequest("the upload has more than one part 'package'; send exactly one");
        }
        archiveReceived = true;
        try (InputStream in = new DigestInputStream(open(item), sha256);
             OutputStream out = Files.newOutputStream(archive, StandardOpenOption.CREATE_NEW)) {
            size = copy(in, out);
        }
    }

    private void readManifest(FileItemInput item) throws IOException {
        if (archiveReceived) {
            throw mixed();
        }
        if (manifestReceived) {
            throw DeployerException.badRequest("the upload carries deploy.json twice; send either one part "
                    + "'manifest' or one part 'file' named deploy.json");
        }
        manifestReceived = true;
        addToFolder(MANIFEST, item);
    }

    private void readFile(FileItemInput item) throws IOException {
        if (archiveReceived) {
            throw mixed();
        }
        String name;
        try {
            name = item.getName();
        } catch (InvalidPathException e) {
            // fileupload refuses a NUL in a filename before we see it; say it in the words of the path rule.
            throw PackagePath.refuse(e.getInput(), "has a control character in its name");
        }
        if (name == null || name.isEmpty()) {
            throw DeployerException.badRequest("a part 'file' has no filename; its filename is the file's path "
                    + "inside the package, e.g. model/weights.bin");
        }
        if (PackagePath.check(name, false).equals(MANIFEST)) {
            if (manifestReceived) {
                throw DeployerException.badRequest("the upload carries deploy.json twice; send either one part "
                        + "'manifest' or one part 'file' named deploy.json");
            }
            manifestReceived = true;
        }
        addToFolder(name, item);
    }

    /**
     * A part {@code stored}: its filename is a jar's path inside the package, its content the jar's SHA-256, for a
     * jar the server already keeps ({@link LibStore}); put in place after the rest is staged.
     */
    private void readStored(FileItemInput item) throws IOException {
        String name = item.getName();
        if (name == null || name.isEmpty() || !name.toLowerCase(java.util.Locale.ROOT).endsWith(".jar")) {
            throw DeployerException.badRequest("a part 'stored' names a jar by its path inside the package as its"
                    + " filename (lib/onnxruntime-1.20.0.jar) and holds its SHA-256");
        }
        String path = PackagePath.check(name, false);
        byte[] text;
        try (InputStream in = open(item)) {
            text = in.readNBytes(129);
        }
        String sha = LibStore.check(new String(text, StandardCharsets.US_ASCII).trim());
        if (stored.put(path, sha) != null) {
            throw DeployerException.badRequest("the upload names " + path + " twice");
        }
        sha256.update(("stored:" + path + "\0" + sha).getBytes(StandardCharsets.UTF_8));
    }

    private void addToFolder(String name, FileItemInput item) throws IOException {
        if (folder == null) {
            folder = new PackageFolder(directory, limits);
        }
        sha256.update(name.getBytes(StandardCharsets.UTF_8));
        sha256.update((byte) 0);
        try (InputStream in = new DigestInputStream(open(item), sha256)) {
            long written = folder.addFile(name, in);
            sha256.update(ByteBuffer.allocate(Long.BYTES).putLong(written).array());
            size += written;
        }
    }

    /** Copies the archive part to its staging file; reading is counted by the request, not capped again here. */
    private static long copy(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long copied = 0;
        while (true) {
            int n;
            try {
                n = in.read(buffer);
            } catch (IOException e) {
                throw new ReadFailure(e);
            }
            if (n < 0) {
                return copied;
            }
            out.write(buffer, 0, n);
            copied += n;
        }
    }

    private static InputStream open(FileItemInput item) throws ReadFailure {
        try {
            return item.getInputStream();
        } catch (IOException e) {
            throw new ReadFailure(e);
        }
    }

    private static boolean hasNext(FileItemInputIterator items) throws ReadFailure {
        try {
            return items.hasNext();
        } catch (IOException e) {
            throw new ReadFailure(e);
        }
    }

    private static FileItemInput next(FileItemInputIterator items) throws ReadFailure {
        try {
            return items.next();
        } catch (IOException e) {
            throw new ReadFailure(e);
        }
    }

    private static DeployerException mixed() {
        return DeployerException.badRequest("the upload mixes a part 'package' with parts 'manifest'/'file'; "
                + HOW_TO + ", not both");
    }
}
