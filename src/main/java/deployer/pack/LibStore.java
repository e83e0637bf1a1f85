package deployer.pack;

import deployer.core.Sha256;
import deployer.core.DeployerException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The jars of every package, kept once per server by SHA-256 in {@code <data>/libs/<sha256>.jar} (DESIGN 1.9): a
 * package's {@code *.jar} and {@code lib/**.jar} are hard links to the kept copy, so ten versions carrying the
 * same 89 MiB ONNX Runtime hold it once on disk. A client that asks first ({@link #missing}) sends only the jars the
 * server lacks and names the others by hash (a part {@code stored}, {@link #linkInto}); an archive sent whole, as
 * {@code curl} users do, is de-duplicated here after it is unpacked ({@link #dedupe}). Where the file system cannot
 * link, the package keeps its own copy.
 */
public final class LibStore {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Path folder;

    /** @param folder {@code <data>/libs}; created on first use */
    public LibStore(Path folder) {
        this.folder = folder.toAbsolutePath().normalize();
    }

    /** What {@link #dedupe} found: jars linked to a kept copy, and the bytes new to the store. */
    public record Kept(int jars, long alreadyStoredBytes, long newBytes) {
    }

    /**
     * The hashes of those the server does not hold, in the order given.
     *
     * @throws DeployerException BAD_REQUEST when one is not a SHA-256 in lower-case hex
     */
    public List<String> missing(List<String> sha256s) {
        List<String> missing = new ArrayList<>();
        for (String sha : sha256s) {
            if (!Files.isRegularFile(path(check(sha)))) {
                missing.add(sha);
            }
        }
        return missing;
    }

    /**
     * Puts the kept jar {@code sha256} at {@code target} inside a staged package.
     *
     * @throws DeployerException BAD_REQUEST when the server does not hold it
     */
    void linkInto(String sha256, Path target) throws IOException {
        Path kept = path(check(sha256));
        if (!Files.isRegularFile(kept)) {
            throw DeployerException.badRequest("the server holds no jar with sha256 " + sha256 + " (for "
                    + target.getFileName() + "); send the file itself");
        }
        Files.createDirectories(target.getParent());
        try {
            Files.createLink(target, kept);
        } catch (FileAlreadyExistsException e) {
            throw DeployerException.badRequest("the upload carries " + target.getFileName() + " twice");
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(kept, target);
        }
    }

    /** Writes the bytes of a jar from elsewhere (a replica's database); false when it has none of that hash. */
    @FunctionalInterface
    public interface Source {
        boolean writeTo(OutputStream out) throws IOException;
    }

    /**
     * Puts the kept jar {@code sha256} at {@code target}, as {@link #linkInto} does, keeping it first from
     * {@code source} when the store lacks it: a replica writing a version from the database holds each jar once
     * too, and reads from the database only the jars it does not hold. {@code target} must not exist.
     *
     * @return the bytes read from {@code source}: 0 when the jar was kept here already
     */
    public long linkFrom(String sha256, Path target, Source source) throws IOException {
        Path kept = path(check(sha256));
        long read = 0;
        if (!Files.isRegularFile(kept)) {
            Files.createDirectories(folder);
            Path temp = Files.createTempFile(folder, sha256, ".tmp");
            try {
                try (OutputStream out = Files.newOutputStream(temp)) {
                    if (!source.writeTo(out)) {
                        throw new IOException("no jar with sha256 " + sha256 + " to keep for " + target.getFileName());
                    }
                }
                read = Files.size(temp);
                Files.move(temp, kept, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        Files.createDirectories(target.getParent());
        if (!link(kept, target)) {
            Files.copy(kept, target);
        }
        return read;
    }

    /**
     * The SHA-256 a package's jar is kept under when it is a link to a kept copy (same file, as {@link #dedupe} and
     * {@link #linkInto} leave it), read from the kept copy's name; empty otherwise, and the caller hashes the file.
     * What lets a replica's upload name an 89 MiB jar without reading it again.
     */
    public java.util.Optional<String> keptSha256(Path jar) {
        try {
            if (!Files.isDirectory(folder) || !(Files.getAttribute(jar, "unix:nlink") instanceof Integer n) || n < 2) {
                return java.util.Optional.empty();
            }
            Object key = Files.readAttributes(jar, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            try (Stream<Path> kept = Files.list(folder)) {
                for (Path k : (Iterable<Path>) kept::iterator) {
                    String name = k.getFileName().toString();
                    if (key != null && name.endsWith(".jar") && SHA256.matcher(name.substring(0, name.length() - 4))
                            .matches() && key.equals(Files.readAttributes(k,
                            java.nio.file.attribute.BasicFileAttributes.class).fileKey())) {
                        return java.util.Optional.of(name.substring(0, name.length() - 4));
                    }
                }
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // not a file system that says: hash it
        }
        return java.util.Optional.empty();
    }

    /**
     * Whether the file at {@code path} (relative to a package's root, {@code /}-separated) is one of those kept
     * here: a {@code *.jar} at the root or under {@code lib/}, as {@link #dedupe} finds them.
     */
    public static boolean isKept(String path) {
        String lower = path.toLowerCase(Locale.ROOT);
        return lower.endsWith(".jar") && (path.indexOf('/') < 0 || path.startsWith("lib/"));
    }

    /**
     * Replaces every {@code *.jar} at the package root and under {@code lib/} by a link to the kept copy of the
     * same bytes, keeping those the store does not have yet.
     */
    Kept dedupe(Path directory, java.util.Set<Path> linked) throws IOException {
        int jars = 0;
        long already = 0;
        long added = 0;
        for (Path jar : jars(directory)) {
            if (linked.contains(jar)) {
                jars++;
                already += Files.size(jar);
                continue;
            }
            String sha = sha256(jar);
            Path kept = path(sha);
            long size = Files.size(jar);
            if (Files.isRegularFile(kept)) {
                already += size;
            } else {
                Files.createDirectories(folder);
                Path temp = Files.createTempFile(folder, sha, ".tmp");
                try {
                    Files.delete(temp);
                    if (!link(jar, temp)) {
                        Files.copy(jar, temp);
                    }
                    Files.move(temp, kept, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException raced) {
                    // another upload kept the same jar a moment ago
                } finally {
                    Files.deleteIfExists(temp);
                }
                added += size;
            }
            Path replaced = jar.resolveSibling(jar.getFileName() + ".linking");
            if (link(kept, replaced)) {
                Files.move(replaced, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            jars++;
        }
        return new Kept(jars, already, added);
    }

    /**
     * Deletes the kept jars no package links to any more (a purged model's), and what an interrupted keep left;
     * for the start of a server, when no upload is in flight.
     *
     * @return the number of files deleted
     */
    public int sweep() {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        int deleted = 0;
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                boolean unused = name.endsWith(".jar") && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)
                        && Files.getAttribute(f, "unix:nlink", LinkOption.NOFOLLOW_LINKS) instanceof Integer n
                        && n == 1;
                if (unused || name.endsWith(".tmp")) {
                    Files.deleteIfExists(f);
                    deleted++;
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a file system that counts links: keep everything
        }
        return deleted;
    }

    /** Where the jar of this hash is kept. */
    Path path(String sha256) {
        return folder.resolve(sha256 + ".jar");
    }

    private static boolean link(Path existing, Path link) {
        try {
            Files.createLink(link, existing);
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static List<Path> jars(Path directory) throws IOException {
        List<Path> jars = new ArrayList<>();
        try (Stream<Path> top = Files.list(directory)) {
            top.filter(LibStore::isJar).forEach(jars::add);
        }
        Path lib = directory.resolve("lib");
        if (Files.isDirectory(lib, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> walk = Files.walk(lib)) {
                walk.filter(LibStore::isJar).forEach(jars::add);
            }
        }
        return jars;
    }

    private static boolean isJar(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jar")
                && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS);
    }

    static String check(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw DeployerException.badRequest("a library is named by its SHA-256 in lower-case hex (64 characters),"
                    + " not " + (sha256 == null ? "nothing" : "'" + (sha256.length() > 70 ? sha256.substring(0, 67)
                    + "..." : sha256) + "'"));
        }
        return sha256;
    }

    /** The SHA-256 of a file, lower-case hex. */
    public static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest())) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static MessageDigest digest() {
        return Sha256.newDigest();
    }
}
