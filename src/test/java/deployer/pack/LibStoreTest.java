package deployer.pack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jar store's lookups that need no server: which kept copy a package's jar is, and which paths it keeps. */
class LibStoreTest {

    @TempDir
    Path work;

    @Test
    void aLinkedJarIsNamedByItsKeptCopyAndAnyOtherFileIsNot() throws Exception {
        LibStore libs = new LibStore(work.resolve("libs"));
        Path pkg = Files.createDirectories(work.resolve("pkg/lib"));
        Files.write(pkg.resolve("a.jar"), new byte[] {1, 2, 3});
        Files.write(pkg.resolve("b.bin"), new byte[] {4});
        Path other = Files.write(work.resolve("copy.jar"), new byte[] {1, 2, 3});
        assertThat(libs.keptSha256(pkg.resolve("a.jar"))).as("nothing kept yet").isEmpty();

        libs.dedupe(work.resolve("pkg"), Set.of());

        assertThat(libs.keptSha256(pkg.resolve("a.jar"))).contains(LibStore.sha256(pkg.resolve("a.jar")));
        assertThat(libs.keptSha256(other)).as("the same bytes, but not a link to the kept copy").isEmpty();
        assertThat(libs.keptSha256(pkg.resolve("b.bin"))).isEmpty();
    }

    @Test
    void theJarsKeptAreThoseAtThePackageRootAndUnderLib() {
        assertThat(LibStore.isKept("a.jar")).isTrue();
        assertThat(LibStore.isKept("lib/x/B.JAR")).isTrue();
        assertThat(LibStore.isKept("model/a.jar")).isFalse();
        assertThat(LibStore.isKept("lib/a.jar.txt")).isFalse();
    }
}
