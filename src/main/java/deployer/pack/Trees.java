package deployer.pack;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Deleting folder trees; links are removed, never followed. */
final class Trees {

    private static final Logger log = LoggerFactory.getLogger(Trees.class);

    private Trees() {
    }

    /** Deletes a file or a folder with everything under it; a path that is already gone is fine. */
    static void delete(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
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
    }

    /** Deletes what it can and logs what it cannot: used on paths that must not turn one failure into another. */
    static void deleteQuietly(Path path) {
        try {
            delete(path);
        } catch (IOException | RuntimeException e) {
            log.warn("could not delete {}: {}", path, e.toString());
        }
    }

    /** Empties a folder, creating it when missing. */
    static void emptyFolder(Path folder) throws IOException {
        Files.createDirectories(folder);
        try (var children = Files.list(folder)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                delete(child);
            }
        }
    }
}
