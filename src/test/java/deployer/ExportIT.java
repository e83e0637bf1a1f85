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
            // The entrypoint, run from the unpacked layers with this JDK standing in for the base image's java.
            List<String> command = new ArrayList<>();
            for (String arg : image.entrypoint()) {
                command.add(arg.equals("java") ? java() : arg.startsWith("/app/") ? root.resolve(arg.substring(1))
                        .toString() : arg.equals("8080") ? "0" : arg);
            }
            command.addAll(List.of("--host", "127.0.0.1"));
            Path log = dir.resolve("cell.log");
            Process cell = new ProcessBuilder(command).directory(root.resolve("app").toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                String line = Eventually.get(() -> read(log), text -> text.contains("deployer cell serving on")
                        || !cell.isAlive());
                assertThat(line).as(line).contains("deployer cell serving on 127.0.0.1:");
                String port = line.replaceAll("(?s).*deployer cell serving on 127\\.0\\.0\\.1:(\\d+).*", "$1");
                var http = java.net.http.HttpClient.newHttpClient();
                var predict = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/predict"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"x\": 1}")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(predict.statusCode()).isEqualTo(200);
                assertThat(predict.body()).isEqualTo("{\"echo\":{\"x\":1}}");
                var health = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/health")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).isEqualTo(200);
                assertThat(health.body()).contains("\"status\":\"UP\"").contains("\"model\":\"echo\"");
                var metrics = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(metrics.statusCode()).isEqualTo(200);
                assertThat(metrics.body()).contains("deployer_requests_total{model=\"echo\"");
                var ready = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/v2/models/echo/ready")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            } finally {
                cell.destroy();
                assertThat(cell.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
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

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void aCellAloneRefusesAPackageThatDoesNotLoadWithExitOne() throws Exception {
        Path pkg = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(pkg.resolve("deploy.json"), "{\"name\": \"broken\", \"entry\": \"example.Missing\"}");
        Run cell = run(List.of(java(), "-jar", JarIT.JAR.toString(), "cell", pkg.toString(), "--port", "0",
                "--host", "127.0.0.1"), dir);
        assertThat(cell.status()).as(cell.out() + cell.err()).isEqualTo(1);
        assertThat(cell.err()).contains("deployer: ").contains("example.Missing");
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
