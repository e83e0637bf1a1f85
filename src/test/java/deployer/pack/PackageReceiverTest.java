package deployer.pack;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The two upload forms (DESIGN 1.2) over real HTTP into a real Jetty; every failure leaves staging empty. */
class PackageReceiverTest extends ReceiverServerTest {

    @Test
    void zipPackageIsStagedWithItsHashAndSize() throws Exception {
        byte[] zip = Packages.zip(Packages.echoPackage("echo"));

        HttpResponse<String> response = server.post(new Multipart().file("package", "echo.zip", zip));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body().lines()).containsExactly(
                "name=echo", "sha256=" + sha256(zip), "size=" + zip.length, "deploy.json", "serving/EchoModel.java");
        server.assertStagingEmpty();
    }

    @Test
    void tarGzPackageIsStagedWhateverItsFilename() throws Exception {
        byte[] tarGz = Packages.tarGz(Packages.echoPackage("echo"));

        HttpResponse<String> response = server.post(new Multipart().file("package", "package.bin", tarGz));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body().lines()).contains("name=echo", "sha256=" + sha256(tarGz), "serving/EchoModel.java");
        server.assertStagingEmpty();
    }

    @Test
    void partsFormWritesEachFileAtItsPath() throws Exception {
        byte[] manifest = Packages.manifest("{\"name\": \"iris\"}");
        byte[] weights = {1, 2, 3, 4};
        byte[] script = Packages.echoPackage("x").get("serving/EchoModel.java");

        HttpResponse<String> response = server.post(new Multipart()
                .field("manifest", manifest)
                .file("file", "model/größe.bin", weights)
                .file("file", "serving/EchoModel.java", script));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body().lines()).containsExactly(
                "name=iris",
                "sha256=" + partsSha256(Map.of("deploy.json", manifest), Map.of("model/größe.bin", weights),
                        Map.of("serving/EchoModel.java", script)),
                "size=" + (manifest.length + weights.length + script.length),
                "deploy.json", "model/größe.bin", "serving/EchoModel.java");
        server.assertStagingEmpty();
    }

    @Test
    void fileNamedDeployJsonStandsInForTheManifestPart() throws Exception {
        HttpResponse<String> response = server.post(new Multipart()
                .file("file", "deploy.json", Packages.manifest("{\"name\": \"iris\"}"))
                .file("file", "model/w.bin", new byte[] {7}));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body().lines()).contains("name=iris", "model/w.bin");
    }

    @Test
    void manifestPartAndDeployJsonFileTogetherAreRejected() throws Exception {
        assertRejected(new Multipart()
                        .field("manifest", Packages.manifest("{\"name\": \"a\"}"))
                        .file("file", "deploy.json", Packages.manifest("{\"name\": \"b\"}")),
                400, "the upload carries deploy.json twice");
    }

    @Test
    void partsFormWithoutManifestSaysWhatToSend() throws Exception {
        assertRejected(new Multipart().file("file", "model/w.bin", new byte[] {1}),
                400, "the upload has no deploy.json; send it as the part 'manifest'");
    }

    @Test
    void filePartLeavingThePackageFolderIsRejected() throws Exception {
        assertRejected(new Multipart()
                        .field("manifest", Packages.manifest("{\"name\": \"a\"}"))
                        .file("file", "../evil", new byte[] {1}),
                400, "entry '../evil' leaves the package folder");
        assertThat(temp.resolve("evil")).doesNotExist();
    }

    @Test
    void invalidManifestIsRejectedAndNothingStays() throws Exception {
        assertRejected(new Multipart()
                        .field("manifest", Packages.manifest("{\"name\": \"a\", \"helth\": {}}"))
                        .file("file", "model/w.bin", new byte[] {1}),
                400, "deploy.json: unknown key 'helth'");
    }

    @Test
    void mixingPackageWithFilePartsIsRejected() throws Exception {
        assertRejected(new Multipart()
                        .file("package", "p.zip", Packages.zip(Packages.echoPackage("echo")))
                        .file("file", "model/w.bin", new byte[] {1}),
                400, "the upload mixes a part 'package' with parts 'manifest'/'file'");
    }

    @Test
    void unknownPartIsRejectedNamingIt() throws Exception {
        assertRejected(new Multipart().file("pakage", "p.zip", Packages.zip(Packages.echoPackage("echo"))),
                400, "unknown part 'pakage'; send one part 'package'");
    }

    @Test
    void uploadWithoutPartsSaysWhatToSend() throws Exception {
        assertRejected(new Multipart(), 400, "the upload has no parts; send one part 'package'");
    }

    @Test
    void packageThatIsNeitherZipNorTarGzIsRejected() throws Exception {
        assertRejected(new Multipart().file("package", "p.zip", "plain text".getBytes(UTF_8)),
                400, "package is neither a .zip nor a .tar.gz");
    }

    @Test
    void deployJsonOneFolderDownSaysToZipTheContents() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("iris/", new byte[0]);
        entries.put("iris/deploy.json", Packages.manifest("{\"name\": \"iris\"}"));
        entries.put("iris/model/w.bin", new byte[] {1});

        assertRejected(new Multipart().file("package", "iris.zip", Packages.zip(entries)),
                400, "deploy.json is in the folder 'iris/', not at the package root: zip the folder's contents, "
                        + "not the folder");
    }

    @Test
    void hostileArchiveInsideAnUploadLeavesNothing() throws Exception {
        assertRejected(new Multipart().file("package", "p.tgz", Packages.tarGzWithSymlink("model/x", "/etc/passwd")),
                400, "entry 'model/x' is a symbolic link");
    }

    private void assertRejected(Multipart upload, int status, String messageStart) throws Exception {
        HttpResponse<String> response = server.post(upload);

        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.body()).startsWith(messageStart);
        server.assertStagingEmpty();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** The parts form's hash as StagedPackage documents it: per part, path, NUL, bytes, length (8 bytes). */
    @SafeVarargs
    private static String partsSha256(Map<String, byte[]>... parts) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        for (Map<String, byte[]> part : parts) {
            Map.Entry<String, byte[]> file = part.entrySet().iterator().next();
            digest.update(file.getKey().getBytes(UTF_8));
            digest.update((byte) 0);
            digest.update(file.getValue());
            digest.update(ByteBuffer.allocate(8).putLong(file.getValue().length).array());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
