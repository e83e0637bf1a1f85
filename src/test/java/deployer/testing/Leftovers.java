package deployer.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** What a refused or cut-off upload must not leave in a data folder. */
public final class Leftovers {

    private Leftovers() {
    }

    /**
     * Nothing in {@code staging/}, no folder under {@code models/}, and nothing written beside the data folder (where
     * an entry climbing out with {@code ../} would land).
     */
    public static void assertNothingLeft(Path data) {
        assertThat(list(data.resolve("staging"))).as("left in staging").isEmpty();
        assertThat(list(data.resolve("models"))).as("left in models").isEmpty();
        assertThat(data.resolve("../evil.txt").normalize()).as("written outside the data folder").doesNotExist();
    }

    private static java.util.List<Path> list(Path folder) {
        if (!Files.exists(folder)) {
            return java.util.List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
