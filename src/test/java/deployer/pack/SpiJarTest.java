package deployer.pack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpiJarTest {

    private static final List<String> SPI_TYPES = List.of(
            "deployer/spi/Model.class", "deployer/spi/ModelContext.class",
            "deployer/spi/Reply.class", "deployer/spi/Request.class");

    @TempDir
    Path temp;

    @Test
    void jarHoldsTheFourSpiTypesAndNothingElse() throws IOException {
        Path jar = SpiJar.write(temp.resolve("data/spi.jar"));

        List<String> classes = classEntries(jar);
        assertThat(classes).containsAll(SPI_TYPES);
        assertThat(classes).allMatch(name -> name.startsWith("deployer/spi/") && name.indexOf('/', 13) < 0);
    }

    @Test
    void jarIsWrittenFromAShadedJarToo() throws IOException {
        Path shaded = temp.resolve("deployer.jar");
        try (OutputStream file = Files.newOutputStream(shaded); JarOutputStream out = new JarOutputStream(file)) {
            for (String entry : List.of("deployer/spi/Model.class", "deployer/spi/Reply.class",
                    "deployer/spi/sub/Hidden.class", "deployer/Main.class", "com/fasterxml/X.class",
                    "deployer/spi/notes.txt")) {
                out.putNextEntry(new JarEntry(entry));
                out.write(new byte[] {1});
                out.closeEntry();
            }
        }

        Path jar = SpiJar.write(temp.resolve("spi.jar"), shaded);

        assertThat(classEntries(jar)).containsExactly("deployer/spi/Model.class", "deployer/spi/Reply.class");
    }

    @Test
    void rewritingReplacesTheJarAndLeavesNoTemporaryFile() throws IOException {
        Path target = temp.resolve("spi.jar");
        Files.writeString(target, "an old, broken jar");

        SpiJar.write(target);

        assertThat(classEntries(target)).containsAll(SPI_TYPES);
        try (Stream<Path> files = Files.list(temp)) {
            assertThat(files).containsExactly(target);
        }
    }

    private static List<String> classEntries(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return Collections.list(file.entries()).stream()
                    .map(JarEntry::getName)
                    .filter(name -> !name.startsWith("META-INF/"))
                    .toList();
        }
    }
}
