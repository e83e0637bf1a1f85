package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deployer export} from the shaded jar, as a user runs it (failsafe, after {@code package}): the package comes
 * from the server's {@code GET /api/deployments/{id}/package}, the image is a valid OCI archive read back by hand,
 * and the manifests name its image.
 */
class ExportIT {

    @TempDir
    Path dir;

    @Test
    void exportWritesAnImageOfTheActiveVersionAndItsManifests() throws Exception {
        try (TestServer server = TestServer.start(dir.resolve("data"))) {
            Map<String, Object> d = server.deploy(Packages.zip(Packages.echoPackage("echo")));
            assertThat(d.get("state")).isEqualTo("READY");

            Path out = dir.resolve("out");
            Run export = run(List.of(java(), "-jar", JarIT.JAR.toString(), "export", "echo", "--out", out.toString(),
                    "--base-image", "scratch", "--server", server.uri("/").toString(), "--token", TestServer.TOKEN),
                    dir);
            assertThat(export.status()).as(export.err()).isZero();
            assertThat(export.out()).contains("exported echo v1 as deployer/echo:1 (sha256:");

            deployer.export.OciArchiveReader image = deployer.export.OciArchiveReader.read(out.resolve("image.tar"));
            assertThat(image.refName()).isEqualTo("deployer/echo:1");
            assertThat(image.entrypoint()).startsWith("java", "-jar", "/app/deployer.jar", "cell");
            Path root = image.unpack(dir.resolve("root"));
            assertThat(root.resolve("app/deployer.jar")).hasSameBinaryContentAs(JarIT.JAR);
            assertThat(root.resolve("app/model/deploy.json")).exists();
            // Compiled by the server: the image serves without a compiler.
            assertThat(root.resolve("app/model/.deployer/classes")).isDirectory();
            assertThat(Files.readString(out.resolve("kubernetes.yaml"))).contains("image: deployer/echo:1")
                    .contains("kind: Deployment").contains("kind: Service").contains("kind: HorizontalPodAutoscaler");
            assertThat(Files.readString(out.resolve("kserve.yaml"))).contains("kind: InferenceService")
                    .contains("image: deployer/echo:1");
            try (var left = Files.list(out)) {
                assertThat(left.map(p -> p.getFileName().toString()))
                        .as("nothing but the three files is left in --out")
                        .containsExactlyInAnyOrder("image.tar", "kubernetes.yaml", "kserve.yaml");
            }
        }
    }

    @Test
    void thePackageRouteAnswersTheStoredFilesWithTheCompiledClassesAndNoBookkeeping() throws Exception {
        try (TestServer server = TestServer.start(dir.resolve("data"))) {
            Map<String, Object> d = server.deploy(Packages.zip(Packages.echoPackage("echo")));
            Path zip = dir.resolve("p.zip");
            var http = java.net.http.HttpClient.newHttpClient();
            var response = http.send(java.net.http.HttpRequest.newBuilder(
                    server.uri("/api/deployments/" + d.get("deploy_id") + "/package"))
                    .header("Authorization", "Bearer " + TestServer.TOKEN).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofFile(zip));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/zip");
            List<String> names = new ArrayList<>();
            try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
                for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                    names.add(e.getName());
                }
            }
            assertThat(names).contains("deploy.json", "serving/EchoModel.java")
                    .anyMatch(n -> n.startsWith(".deployer/classes/") && n.endsWith(".class"))
                    .noneMatch(n -> n.startsWith(".deployer/") && !n.startsWith(".deployer/classes/"));

            var missing = http.send(java.net.http.HttpRequest.newBuilder(
                    server.uri("/api/deployments/999999/package"))
                    .header("Authorization", "Bearer " + TestServer.TOKEN).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(missing.statusCode()).isEqualTo(404);
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    record Run(int status, String out, String err) {
    }

    static Run run(List<String> command, Path workDir) throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "out", ".txt");
        Path err = Files.createTempFile(workDir, "err", ".txt");
        Process p = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        String o = Files.readString(out, StandardCharsets.UTF_8);
        String e = Files.readString(err, StandardCharsets.UTF_8);
        Files.delete(out);
        Files.delete(err);
        return new Run(p.exitValue(), o, e);
    }
}
