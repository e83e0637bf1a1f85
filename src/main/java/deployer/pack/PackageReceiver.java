package deployer.pack;

import deployer.core.Sha256;
import deployer.core.FileTrees;
import deployer.core.DeployerException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.fileupload2.core.FileItemInputIterator;
import org.apache.commons.fileupload2.core.FileUploadSizeException;
import org.apache.commons.fileupload2.core.MultipartInput;
import org.apache.commons.fileupload2.jakarta.servlet6.JakartaServletFileUpload;

/**
 * Receives one upload into a fresh staging folder {@code <stagingRoot>/<uuid>/}, streaming: parts go straight to disk,
 * the limits are enforced while reading, and whatever went wrong, nothing of a failed upload stays on disk.
 * Thread-safe; one instance serves every request.
 */
public final class PackageReceiver {

    /** The most of a refused upload's body {@link #drain} reads. */
    public static final long DRAIN_BYTES = 16L * 1024 * 1024;

    /** deploy.json is a few lines; a larger one is a mistake, not something to parse. */
    static final int MAX_MANIFEST_BYTES = 1024 * 1024;

    private final Path stagingRoot;
    private final PackLimits limits;
    private final Unpacker unpacker;
    private final LibStore libs;

    /**
     * @param stagingRoot the folder uploads are staged in ({@code <data>/staging}); created when missing
     * @param limits the limits of one upload
     */
    public PackageReceiver(Path stagingRoot, PackLimits limits) {
        this(stagingRoot, limits, null);
    }

    /** @param libs where jars are kept once per server; null for none (a part 'stored' is then refused) */
    public PackageReceiver(Path stagingRoot, PackLimits limits, LibStore libs) {
        this.libs = libs;
        this.stagingRoot = Objects.requireNonNull(stagingRoot, "stagingRoot").toAbsolutePath().normalize();
        this.limits = Objects.requireNonNull(limits, "limits");
        this.unpacker = new Unpacker(limits);
    }

    /** Where jars are kept once per server; null when this receiver keeps none. */
    public LibStore libs() {
        return libs;
    }

    /**
     * Reads and drops what is left of a refused upload's body, up to {@value #DRAIN_BYTES} bytes, so the client —
     * still sending — reads the 4xx instead of a connection reset. Past that the connection is closed anyway.
     */
    public static void drain(HttpServletRequest request) {
        try {
            byte[] buffer = new byte[64 * 1024];
            long left = DRAIN_BYTES;
            int n;
            while (left > 0 && (n = request.getInputStream().read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
                left -= n;
            }
        } catch (IOException | RuntimeException e) {
            // The client went away, or the body was already read to its end: nothing more to do.
        }
    }

    /**
     * Reads a {@code multipart/form-data} upload (DESIGN 1.2), unpacks it and validates its deploy.json.
     *
     * @param request the upload request; its body is consumed
     * @return the staged package; the caller moves or closes it
     * @throws DeployerException BAD_REQUEST for a malformed, mixed, unsafe or cut-off upload, TOO_LARGE past the
     *     limits; in every case nothing of this upload is left under the staging root
     * @throws UncheckedIOException when writing to the server's own disk fails
     */
    public StagedPackage receive(HttpServletRequest request) {
        Objects.requireNonNull(request, "request");
        String type = request.getContentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw DeployerException.badRequest("the upload must be multipart/form-data, not "
                    + (type == null ? "a request without Content-Type" : type) + "; " + UploadReader.HOW_TO);
        }
        if (request.getContentLengthLong() > limits.maxUploadBytes()) {
            throw tooLarge();
        }
        String id = UUID.randomUUID().toString();
        Path directory = stagingRoot.resolve(id);
        Path archive = stagingRoot.resolve(id + ".upload");
        try {
            Files.createDirectories(stagingRoot);
            return stage(new CountingRequest(request, limits.maxUploadBytes()), directory, archive);
        } catch (ReadFailure e) {
            clean(directory, archive);
            throw unreadable(e);
        } catch (IOException e) {
            clean(directory, archive);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            clean(directory, archive);
            throw e;
        }
    }

    private StagedPackage stage(CountingRequest request, Path directory, Path archive) throws IOException {
        UploadReader reader = new UploadReader(limits, directory, archive);
        try {
            reader.readAll(items(request));
        } catch (ReadFailure e) {
            // A part that fails to read because the body passed the limit is a size problem, whichever part it was.
            throw request.reachedLimit() ? tooLarge() : unreadable(e);
        }
        if (reader.isArchive()) {
            unpacker.unpack(archive, directory);
            Files.delete(archive);
        }
        java.util.Set<Path> linked = new java.util.HashSet<>();
        if (!reader.stored().isEmpty()) {
            if (libs == null) {
                throw DeployerException.badRequest("this server keeps no libraries; send every file itself");
            }
            for (java.util.Map.Entry<String, String> jar : reader.stored().entrySet()) {
                Path target = directory.resolve(jar.getKey());
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw DeployerException.badRequest("the upload carries " + jar.getKey() + " both as a file and"
                            + " as a part 'stored'");
                }
                libs.linkInto(jar.getValue(), target);
                linked.add(target);
            }
        }
        Manifest manifest = readManifest(directory, reader.isArchive() || reader.hasManifest());
        if (libs != null) {
            libs.dedupe(directory, linked);
        }
        return new StagedPackage(directory, manifest, reader.sha256(), reader.size());
    }

    /**
     * Stages a package from this machine — a folder, copied as it is (with the classes a server compiled from its
     * scripts, as {@code deployer export} puts it in an image), or a {@code .zip}/{@code .tar.gz}, unpacked under
     * the same rules as an upload: what {@code deployer cell} serves.
     */
    public StagedPackage stageLocal(Path source) {
        Path directory = stagingRoot.resolve(UUID.randomUUID().toString());
        try {
            Files.createDirectories(stagingRoot);
            java.security.MessageDigest sha = Sha256.newDigest();
            long size;
            if (Files.isDirectory(source)) {
                size = copyTree(source, directory, sha);
            } else if (Files.isRegularFile(source)) {
                unpacker.unpack(source, directory);
                size = Files.size(source);
                try (java.io.InputStream in = Files.newInputStream(source)) {
                    in.transferTo(new java.security.DigestOutputStream(java.io.OutputStream.nullOutputStream(), sha));
                }
            } else {
                throw DeployerException.badRequest(source + " is neither a package folder nor an archive");
            }
            Manifest manifest = readManifest(directory, true);
            return new StagedPackage(directory, manifest, Sha256.hex(sha), size);
        } catch (IOException e) {
            FileTrees.deleteQuietly(directory);
            throw new UncheckedIOException("could not read the package at " + source + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            FileTrees.deleteQuietly(directory);
            throw e;
        }
    }

    /** Copies the regular files and folders under {@code from}, hashing each path and content in order. */
    private static long copyTree(Path from, Path to, java.security.MessageDigest sha) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(from)) {
            files = walk.sorted().toList();
        }
        long size = 0;
        for (Path file : files) {
            Path target = to.resolve(from.relativize(file).toString());
            if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(target);
            } else if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(target.getParent());
                Files.copy(file, target);
                sha.update(from.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                try (java.io.InputStream in = Files.newInputStream(file)) {
                    in.transferTo(new java.security.DigestOutputStream(java.io.OutputStream.nullOutputStream(), sha));
                }
                size += Files.size(file);
            }
        }
        return size;
    }

    private FileItemInputIterator items(CountingRequest request) throws ReadFailure {
        // The iterator streams; no DiskFileItemFactory, so no part is ever buffered whole.
        JakartaServletFileUpload<?, ?> upload = new JakartaServletFileUpload<>();
        upload.setSizeMax(limits.maxUploadBytes());
        upload.setHeaderCharset(StandardCharsets.UTF_8);
        try {
            return upload.getItemIterator(request);
        } catch (IOException e) {
            throw new ReadFailure(e);
        }
    }

    private static Manifest readManifest(Path directory, boolean archiveOrManifestSent) throws IOException {
        Path file = directory.resolve(UploadReader.MANIFEST);
        if (!Files.isDirectory(directory) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            List<String> nested = List.of();
            if (Files.isDirectory(directory)) {
                try (Stream<Path> children = Files.list(directory)) {
                    nested = children.filter(child -> Files.isRegularFile(child.resolve(UploadReader.MANIFEST),
                                    LinkOption.NOFOLLOW_LINKS))
                            .map(child -> child.getFileName().toString())
                            .sorted()
                            .toList();
                }
            }
            if (!nested.isEmpty()) {
                throw DeployerException.badRequest("deploy.json is in the folder '" + nested.get(0)
                        + "/', not at the package root: zip the folder's contents, not the folder");
            }
            throw DeployerException.badRequest(archiveOrManifestSent
                    ? "the package has no deploy.json at its root"
                    : "the upload has no deploy.json; send it as the part 'manifest' (or a part 'file' named "
                            + "deploy.json) beside the parts 'file'");
        }
        if (Files.size(file) > MAX_MANIFEST_BYTES) {
            throw DeployerException.badRequest("deploy.json: the file is larger than " + MAX_MANIFEST_BYTES
                    + " bytes; a manifest is a few lines of JSON");
        }
        return Manifest.parse(Files.readAllBytes(file));
    }

    private DeployerException tooLarge() {
        return DeployerException.tooLarge("the upload is larger than " + limits.maxUploadBytes()
                + " bytes, the server's limit (--max-upload-mb)");
    }

    private static DeployerException unreadable(ReadFailure e) {
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            // fileupload reports an over-long part header as a size failure; the request itself was within limits.
            // 2.0.0-M4 fixes that cap at 512 bytes (CVE-2025-48976) and offers no setter for it.
            if (cause instanceof FileUploadSizeException size
                    && size.getPermitted() == MultipartInput.DEFAULT_PART_HEADER_SIZE_MAX) {
                return DeployerException.badRequest("a part's headers are longer than "
                        + MultipartInput.DEFAULT_PART_HEADER_SIZE_MAX + " bytes; keep part names and filenames short "
                        + "(a path inside the package of at most about 400 characters)");
            }
        }
        return DeployerException.badRequest("the upload could not be read (" + e.reason()
                + "): it was cut off or is not well-formed multipart/form-data; " + UploadReader.HOW_TO);
    }

    private static void clean(Path directory, Path archive) {
        FileTrees.deleteQuietly(directory);
        FileTrees.deleteQuietly(archive);
    }
}
