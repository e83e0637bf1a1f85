package deployer.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deleting a folder with everything in it: the one file-tree job the JDK has no single call for. Links are removed,
 * never followed; a path that goes away meanwhile is fine.
 */
public final class FileTrees {

    private static final Logger log = LoggerFactory.getLogger(FileTrees.class);

    private FileTrees() {
    }

    /** Deletes {@code root} (a file or a folder with everything below it); does nothing if it is absent. */
    public static void delete(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null) {
                        throw e;
                    }
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + root + ": " + e.getMessage(), e);
        }
    }

    /** Deletes what it can and logs what it cannot: for paths that must not turn one failure into another. */
    public static void deleteQuietly(Path root) {
        try {
            delete(root);
        } catch (RuntimeException e) {
            log.warn("{}", e.getMessage());
        }
    }

    /** Empties a folder, creating it when missing. */
    public static void emptyFolder(Path folder) {
        try {
            Files.createDirectories(folder);
            try (var children = Files.list(folder)) {
                for (Path child : (Iterable<Path>) children::iterator) {
                    delete(child);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not empty " + folder + ": " + e.getMessage(), e);
        }
    }
}
