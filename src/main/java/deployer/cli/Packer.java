package deployer.cli;

import deployer.core.DeployerException;
import deployer.pack.Manifest;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Packs a model's folder into a zip the way DESIGN 1.5 says: {@code deploy.json} plus exactly the files its
 * {@code files} patterns mark deployable, matched as {@link java.nio.file.PathMatcher} globs against the path
 * relative to the folder ({@code model/*} is the files directly in {@code model/}, {@code model/**} every file
 * below it). The zip is written to a file, never held in memory.
 */
final class Packer {

    static final String MANIFEST = "deploy.json";
    /** Already compressed: stored as they are rather than deflated a second time. */
    private static final Set<String> STORED = Set.of("jar", "zip", "gz", "tgz", "xz", "bz2", "zst", "png", "jpg",
            "jpeg", "onnx.gz");

    /**
     * What was packed.
     *
     * @param manifest the validated deploy.json
     * @param archive the zip, a temporary file the caller deletes
     * @param packed the paths inside the zip, deploy.json first
     * @param leftOut the folder's other files, not sent
     * @param unmatched the patterns of {@code files} that matched no file
     * @param bytes the size of the packed files before compression, those the server keeps included
     * @param stored jars the server keeps, left out of the zip: path inside the package → SHA-256
     * @param storedBytes their size
     */
    record Packed(Manifest manifest, Path archive, List<String> packed, List<String> leftOut,
                  List<String> unmatched, long bytes, Map<String, String> stored, long storedBytes) {
    }

    private Packer() {
    }

    /**
     * Packs {@code folder} into a new temporary zip.
     *
     * @throws CliFailure USAGE when the folder has no deploy.json, FAILED when deploy.json is not valid
     */
    static Packed pack(Path folder) {
        return pack(folder, jars -> java.util.Set.of());
    }

    /**
     * Packs {@code folder}, leaving out the jars ({@code *.jar}, {@code lib/**.jar}) the server already keeps.
     *
     * @param onServer told each deployable jar's path and SHA-256; answers the paths the server has
     */
    static Packed pack(Path folder, java.util.function.Function<Map<String, String>, java.util.Set<String>> onServer) {
        Path manifestFile = requireManifest(folder);
        try {
            Manifest manifest;
            try {
                manifest = Manifest.parse(Files.readAllBytes(manifestFile));
            } catch (DeployerException e) {
                throw CliFailure.failed(folder.resolve(MANIFEST) + ": " + e.getMessage());
            }
            Map<String, PathMatcher> patterns = new LinkedHashMap<>();
            for (String glob : manifest.files()) {
                try {
                    patterns.put(glob, FileSystems.getDefault().getPathMatcher("glob:" + glob));
                } catch (IllegalArgumentException e) {
                    throw CliFailure.failed(manifestFile + ": files pattern " + Target.quote(glob)
                            + " is not a glob: " + e.getMessage());
                }
            }
            List<String> packed = new ArrayList<>(List.of(MANIFEST));
            List<String> leftOut = new ArrayList<>();
            List<String> unmatched = new ArrayList<>(patterns.keySet());
            for (Path file : files(folder)) {
                Path relative = folder.relativize(file);
                String name = relative.toString().replace(relative.getFileSystem().getSeparator(), "/");
                if (name.equals(MANIFEST)) {
                    continue;
                }
                boolean deployable = false;
                for (Map.Entry<String, PathMatcher> pattern : patterns.entrySet()) {
                    if (pattern.getValue().matches(relative)) {
                        deployable = true;
                        unmatched.remove(pattern.getKey());
                    }
                }
                (deployable ? packed : leftOut).add(name);
            }
            Map<String, String> jars = new LinkedHashMap<>();
            for (String name : packed) {
                if (name.endsWith(".jar") && (!name.contains("/") || name.startsWith("lib/"))) {
                    jars.put(name, deployer.pack.LibStore.sha256(folder.resolve(name)));
                }
            }
            java.util.Set<String> there = jars.isEmpty() ? java.util.Set.of() : onServer.apply(jars);
            Map<String, String> stored = new LinkedHashMap<>(jars);
            stored.keySet().retainAll(there);
            long storedBytes = 0;
            for (String name : stored.keySet()) {
                storedBytes += Files.size(folder.resolve(name));
            }
            List<String> sent = new ArrayList<>(packed);
            sent.removeAll(stored.keySet());
            Path archive = Files.createTempFile("deployer-" + manifest.name() + "-", ".zip");
            try {
                long bytes = write(folder, sent, archive) + storedBytes;
                return new Packed(manifest, archive, List.copyOf(packed), List.copyOf(leftOut),
                        List.copyOf(unmatched), bytes, Map.copyOf(stored), storedBytes);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(archive);
                throw e;
            }
        } catch (IOException e) {
            throw CliFailure.usage("cannot pack " + folder + ": " + e);
        }
    }

    /** The folder's deploy.json; a usage error when there is none. */
    static Path requireManifest(Path folder) {
        Path manifestFile = folder.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw CliFailure.usage(Target.display(folder) + " has no " + MANIFEST + "; `deployer new NAME --template "
                    + "basic` makes a folder that has one");
        }
        return manifestFile;
    }

    /** Every regular file below the folder (links to files count; links to folders are not followed), sorted. */
    private static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static long write(Path folder, List<String> names, Path archive) throws IOException {
        long bytes = 0;
        try (OutputStream file = Files.newOutputStream(archive);
             ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(file, 1 << 16))) {
            for (String name : names) {
                Path source = folder.resolve(name);
                ZipEntry entry = new ZipEntry(name);
                entry.setLastModifiedTime(FileTime.fromMillis(Files.getLastModifiedTime(source).toMillis()));
                long size = Files.size(source);
                if (stored(name)) {
                    entry.setMethod(ZipEntry.STORED);
                    entry.setSize(size);
                    entry.setCompressedSize(size);
                    entry.setCrc(crc(source));
                }
                zip.putNextEntry(entry);
                Files.copy(source, zip);
                zip.closeEntry();
                bytes += size;
            }
        }
        return bytes;
    }

    private static boolean stored(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && STORED.contains(name.substring(dot + 1).toLowerCase(java.util.Locale.ROOT));
    }

    private static long crc(Path file) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                crc.update(buffer, 0, n);
            }
        }
        return crc.getValue();
    }
}
