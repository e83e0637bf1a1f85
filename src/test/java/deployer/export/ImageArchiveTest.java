package deployer.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageArchiveTest {

    @TempDir
    Path dir;

    private Path jar() throws Exception {
        Path jar = dir.resolve("deployer.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("hello.txt"));
            out.write("hi".getBytes(StandardCharsets.UTF_8));
        }
        return jar;
    }

    private Path pkg() throws Exception {
        Path pkg = Files.createDirectories(dir.resolve("pkg"));
        Files.writeString(pkg.resolve("deploy.json"), "{\"name\": \"m\"}");
        Files.createDirectories(pkg.resolve("model"));
        Files.writeString(pkg.resolve("model/weights.txt"), "0.5 0.25");
        return pkg;
    }

    @Test
    void theArchiveIsAnOciLayoutWhoseDigestsMatchTheirBytesAndWhoseEntrypointIsTheCell() throws Exception {
        Path archive = dir.resolve("image.tar");
        String digest = ImageArchive.build(jar(), pkg(), "deployer/m:1", "scratch", archive, dir.resolve("cache"));

        OciArchiveReader image = OciArchiveReader.read(archive);
        assertThat(image.manifestDigest()).isEqualTo(digest);
        assertThat(image.refName()).isEqualTo("deployer/m:1");
        assertThat(image.entrypoint()).containsExactly("java", "-jar", "/app/deployer.jar", "cell", "/app/model",
                "--port", "8080");
        assertThat(image.exposedPorts()).containsExactly("8080/tcp");
        // The deployer jar and the package are separate layers: a new version changes the second only.
        assertThat(image.layerFiles()).hasSize(2);
        assertThat(image.layerFiles().get(0)).containsExactly("app/deployer.jar");
        assertThat(image.layerFiles().get(1)).contains("app/model/deploy.json", "app/model/model/weights.txt");

        Path root = image.unpack(dir.resolve("root"));
        assertThat(root.resolve("app/model/model/weights.txt")).hasContent("0.5 0.25");
        assertThat(Files.size(root.resolve("app/deployer.jar"))).isEqualTo(Files.size(dir.resolve("deployer.jar")));
    }

    @Test
    void theSameInputsGiveTheSameImage() throws Exception {
        Path jar = jar();
        Path pkg = pkg();
        String first = ImageArchive.build(jar, pkg, "deployer/m:1", "scratch", dir.resolve("a.tar"),
                dir.resolve("cache"));
        String second = ImageArchive.build(jar, pkg, "deployer/m:1", "scratch", dir.resolve("b.tar"),
                dir.resolve("cache2"));
        assertThat(second).isEqualTo(first);
    }

    @Test
    void aBadBaseImageReferenceNamesTheFlag() throws Exception {
        Path jar = jar();
        Path pkg = pkg();
        assertThatThrownBy(() -> ImageArchive.build(jar, pkg, "deployer/m:1", "Not An Image!", dir.resolve("x.tar"),
                dir.resolve("cache"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--base-image Not An Image! is not an image reference");
    }

    @Test
    void aMissingJarIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path pkg = pkg();
        assertThatThrownBy(() -> ImageArchive.build(dir.resolve("none.jar"), pkg, "deployer/m:1", "scratch",
                dir.resolve("x.tar"), dir.resolve("cache"))).hasMessageStartingWith("no deployer jar at");
        assertThat(dir.resolve("x.tar")).doesNotExist();
    }
}
