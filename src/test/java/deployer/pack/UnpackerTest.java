package deployer.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.core.DeployerException;
import deployer.testing.Packages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class UnpackerTest {

    private static final PackLimits LIMITS = new PackLimits(1 << 20, 100, 20, 1 << 20);

    @TempDir
    Path temp;

    @Test
    void zipWithFoldersUnpacksEveryFile() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>(Packages.echoPackage("echo"));
        entries.put("model/", new byte[0]);
        entries.put("model/weights.bin", new byte[] {1, 2, 3});

        Path target = unpack(Packages.zip(entries));

        assertThat(target.resolve("deploy.json")).hasBinaryContent(entries.get("deploy.json"));
        assertThat(target.resolve("serving/EchoModel.java")).hasBinaryContent(entries.get("serving/EchoModel.java"));
        assertThat(target.resolve("model/weights.bin")).hasBinaryContent(new byte[] {1, 2, 3});
    }

    @Test
    void tarGzMadeWithTarDashCDotUnpacks() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("./", new byte[0]);
        entries.put("./deploy.json", Packages.manifest("{\"name\": \"iris\"}"));
        entries.put("./model/", new byte[0]);
        entries.put("./model/weights.bin", new byte[] {4, 5});

        Path target = unpack(Packages.tarGz(entries));

        assertThat(target.resolve("deploy.json")).hasContent("{\"name\": \"iris\"}");
        assertThat(target.resolve("model/weights.bin")).hasBinaryContent(new byte[] {4, 5});
    }

    @Test
    void nestedArchiveIsStoredAsAPlainFile() throws IOException {
        byte[] inner = Packages.zip(Map.of("inner.txt", new byte[] {9}));
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("deploy.json", Packages.manifest("{\"name\": \"n\"}"));
        entries.put("lib/inner.zip", inner);

        Path target = unpack(Packages.tarGz(entries));

        assertThat(target.resolve("lib/inner.zip")).hasBinaryContent(inner);
        assertThat(target.resolve("lib/inner.txt")).doesNotExist();
        assertThat(target.resolve("inner.txt")).doesNotExist();
    }

    @Test
    void archiveTypeIsToldByMagicBytesNotByName() throws IOException {
        Path zipNamedTar = temp.resolve("package.tar.gz");
        Files.write(zipNamedTar, Packages.zip(Map.of("deploy.json", new byte[0])));
        Path text = temp.resolve("package.zip");
        Files.writeString(text, "just text");

        assertThat(Unpacker.detect(zipNamedTar)).isEqualTo(Unpacker.Type.ZIP);
        assertThatThrownBy(() -> Unpacker.detect(text))
                .isInstanceOf(DeployerException.class)
                .hasMessage("package is neither a .zip nor a .tar.gz");
    }

    static Stream<Arguments> hostileArchives() {
        return Stream.of(
                hostile("zip entry leaving the folder", zipWith("../evil"),
                        "entry '../evil' leaves the package folder"),
                hostile("tar entry leaving the folder", tarWith("model/../../evil"), "leaves the package folder"),
                hostile("tar absolute path", tarWith("/tmp/evil"), "entry '/tmp/evil' is an absolute path"),
                hostile("tar drive letter", tarWith("C:/evil"), "entry 'C:/evil' names a drive"),
                hostile("tar backslash", tarWith("model\\evil"), "has a backslash"),
                hostile("zip NUL in name", zipWith("a\u0000b"), "entry 'a\\u0000b' has a control character"),
                hostile("tar control char", tarWith("a\u0001b"), "has a control character"),
                hostile("zip empty segment", zipWith("a//b"), "entry 'a//b' has an empty folder name"),
                hostile("zip dot segment", zipWith("a/./b"), "entry 'a/./b' has a '.' folder"),
                hostile("zip reserved folder", zipWith(".deployer/classes/X.class"), "inside .deployer/"),
                hostile("zip unix symlink", Packages.zipWithSymlink("model/link", "/etc/passwd"),
                        "entry 'model/link' is a symbolic link"),
                hostile("tar symlink", Packages.tarGzWithSymlink("model/link", "/etc/passwd"),
                        "entry 'model/link' is a symbolic link"),
                hostile("tar hard link", Packages.tarGzWithHardLink("model/link", "/etc/passwd"),
                        "entry 'model/link' is a hard link"),
                hostile("tar fifo", Packages.tarGzWithSpecial("model/fifo", TarConstants.LF_FIFO),
                        "entry 'model/fifo' is a device or fifo"),
                hostile("tar char device", Packages.tarGzWithSpecial("model/tty", TarConstants.LF_CHR),
                        "entry 'model/tty' is a device or fifo"),
                hostile("zip duplicate", Packages.zipWithDuplicate("model/w.bin"),
                        "entry 'model/w.bin' appears twice"),
                hostile("tar duplicate", Packages.tarGzWithDuplicate("model/w.bin"),
                        "entry 'model/w.bin' appears twice"),
                hostile("tar duplicate after ./", tarWith("deploy.json", "./deploy.json"),
                        "entry './deploy.json' appears twice"),
                hostile("file where a folder is needed", tarWith("model", "model/w.bin"),
                        "entry 'model/w.bin' needs 'model' to be a folder"),
                hostile("folder where a file was", tarWith("model/w.bin", "model"),
                        "entry 'model' is a file, but the package also has a folder 'model/'"),
                hostile("not an archive", "PK\u0003\u0004 but not really a zip".getBytes(StandardCharsets.ISO_8859_1),
                        "package is not a readable .zip"),
                hostile("truncated tar.gz", Arrays.copyOf(tarWith("model/w.bin"), 30),
                        "package is not a readable .tar.gz"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileArchives")
    void hostileArchiveIsRefusedWith400AndLeavesNothing(String scenario, byte[] archive, String message)
            throws IOException {
        Path target = temp.resolve("package");

        assertThatThrownBy(() -> unpack(archive, target, LIMITS))
                .isInstanceOf(DeployerException.class)
                .hasMessageContaining(message)
                .extracting(e -> ((DeployerException) e).kind())
                .isEqualTo(DeployerException.Kind.BAD_REQUEST);
        assertThat(target).doesNotExist();
    }

    @Test
    void moreEntriesThanTheLimitAreRefused() {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        for (int i = 0; i < 21; i++) {
            entries.put("f" + i, new byte[0]);
        }
        Path target = temp.resolve("package");

        assertThatThrownBy(() -> unpack(Packages.zip(entries), target, LIMITS))
                .isInstanceOf(DeployerException.class)
                .hasMessageStartingWith("the package has more than 20 entries");
        assertThat(target).doesNotExist();
    }

    @Test
    void zipBombIsStoppedByTheBytesActuallyWritten() {
        assertTooLargeAndNothingLeft(Packages.zipBomb("model/zeros.bin", 64L << 20));
    }

    @Test
    void zipBombWhoseHeadersClaimATinySizeIsStoppedAnyway() {
        byte[] bomb = Packages.zipBomb("model/zeros.bin", 64L << 20);
        claimUncompressedSize(bomb, "model/zeros.bin", 10);

        assertTooLargeAndNothingLeft(bomb);
    }

    @Test
    void tarGzBombIsStoppedByTheBytesActuallyWritten() {
        assertTooLargeAndNothingLeft(Packages.tarGzBomb("model/zeros.bin", 64L << 20));
    }

    private void assertTooLargeAndNothingLeft(byte[] archive) {
        Path target = temp.resolve("package");

        assertThatThrownBy(() -> unpack(archive, target, LIMITS))
                .isInstanceOf(DeployerException.class)
                .hasMessage("the package unpacks to more than 1048576 bytes, the server's limit")
                .extracting(e -> ((DeployerException) e).kind())
                .isEqualTo(DeployerException.Kind.TOO_LARGE);
        assertThat(target).doesNotExist();
    }

    private Path unpack(byte[] archive) throws IOException {
        Path target = temp.resolve("package");
        unpack(archive, target, LIMITS);
        return target;
    }

    private void unpack(byte[] archive, Path target, PackLimits limits) throws IOException {
        Path file = Files.write(temp.resolve("upload"), archive);
        new Unpacker(limits).unpack(file, target);
    }

    private static Arguments hostile(String scenario, byte[] archive, String message) {
        return Arguments.of(scenario, archive, message);
    }

    /** deploy.json, then each name as a small file. */
    private static byte[] zipWith(String... names) {
        return Packages.zip(withManifest(names));
    }

    private static byte[] tarWith(String... names) {
        return Packages.tarGz(withManifest(names));
    }

    private static Map<String, byte[]> withManifest(String... names) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("deploy.json", Packages.manifest("{\"name\": \"evil\"}"));
        for (String name : List.of(names)) {
            entries.putIfAbsent(name, name.getBytes(StandardCharsets.UTF_8));
        }
        return entries;
    }

    /** Rewrites the central directory's uncompressed size of {@code name}: a header that lies. */
    private static void claimUncompressedSize(byte[] zip, String name, int size) {
        ByteBuffer buffer = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
        for (int at = 0; at + 46 < zip.length; at++) {
            if (buffer.getInt(at) == 0x02014b50 && buffer.getShort(at + 28) == wanted.length
                    && Arrays.equals(zip, at + 46, at + 46 + wanted.length, wanted, 0, wanted.length)) {
                buffer.putInt(at + 24, size);
                return;
            }
        }
        throw new AssertionError("no central directory entry for " + name);
    }
}
