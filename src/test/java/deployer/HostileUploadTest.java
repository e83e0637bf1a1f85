package deployer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/**
 * The hostile uploads of issue 6 that {@link UploadRejectionTest} and the pack unit tests do not already send through
 * the real server: each gets a clear 4xx, and leaves the server answering, staging empty, and no row or folder. Each
 * test has a server of its own, so "nothing left" speaks of that test's upload alone.
 */
class HostileUploadTest extends ServerTest {

    static final int MAX_UPLOAD_MB = 12;

    @Override
    Settings settings(Settings defaults) {
        return defaults.withMaxUploadMb(MAX_UPLOAD_MB);
    }

    @Test
    void windowsDriveEntryIsRefused() throws Exception {
        assertRefused(Packages.zip(with("C:/Windows/evil.txt")), 400, "names a drive");
        // A zip writer turns C:\ into C:/ (and so would a reader, for a zip made on Windows); a tar keeps it.
        assertRefused(Packages.tarGz(with("C:\\evil.txt")), 400, "'C:\\evil.txt' has a backslash");
    }

    @Test
    void backslashEntryIsRefused() throws Exception {
        assertRefused(Packages.tarGz(with("model\\..\\..\\evil.txt")), 400, "has a backslash");
    }

    @Test
    void nulInAnEntryNameIsRefused() throws Exception {
        assertRefused(Packages.zip(with("model/evil.txt\u0000.png")), 400, "'model/evil.txt\\u0000.png' has a"
                + " control character");
    }

    @Test
    void hardLinkInTarIsRefused() throws Exception {
        assertRefused(Packages.tarGzWithHardLink("model/passwd", "/etc/passwd"), 400, "is a hard link");
    }

    @Test
    void symlinkInZipIsRefused() throws Exception {
        assertRefused(Packages.zipWithSymlink("model/link", "/etc/passwd"), 400, "is a symbolic link");
    }

    @Test
    void uploadOverTheCapWithoutContentLengthIs413() throws Exception {
        byte[] noise = new byte[(MAX_UPLOAD_MB << 20) + 1];
        new Random(3).nextBytes(noise);
        byte[] body = new Multipart().file("package", "p.zip", noise).build();

        TestServer.Response r = server.send(uploadRequest()
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));

        assertThat(r.status()).as(r.text()).isEqualTo(413);
        assertThat(r.error()).contains("--max-upload-mb");
        server.assertNothingLeft();
    }

    /**
     * Each upload limit is tested once where it is enforced ({@code pack.UnpackerTest} for the bytes and entries an
     * archive unpacks to, {@code pack.PackageReceiverLimitsTest} for parts, part headers and a cut-off body); this is
     * the one walk of them all through the real server: each refused with its status and nothing left after it, and
     * the server still deploying a good package at the end.
     */
    @Test
    void everyUploadLimitRefusesThroughTheServerAndLeavesNothing() throws Exception {
        byte[] bomb = Packages.zipBomb("model/zeros.bin", 64L << 20);
        assertThat(bomb.length).isLessThan(1 << 20);
        assertRefused(bomb, 413, "the package unpacks to more than");

        Multipart parts = new Multipart().field("manifest", TestModels.bytes(TestModels.manifest("parts", "x.Y")));
        for (int i = 0; i < 5_000; i++) {
            parts.file("file", "model/f" + i, new byte[] {1});
        }
        assertRefused(parts, 400, "the upload has more than 1000 parts");

        String headers = "Content-Disposition: form-data; name=\"package\"; filename=\"p.zip\"\r\n"
                + "X-Padding: " + "a".repeat(100_000) + "\r\n";
        assertRefused(new Multipart().part(headers, Packages.zip(TestModels.echo("padded"))), 400,
                "a part's headers are longer than");

        byte[] noise = new byte[2 << 20];
        new Random(5).nextBytes(noise);
        byte[] body = new Multipart().file("package", "p.zip", noise).build();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/deployments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TestServer.TOKEN
                    + "\r\nContent-Type: " + Multipart.contentType() + "\r\nContent-Length: " + body.length
                    + "\r\n\r\n").getBytes(UTF_8));
            out.write(body, 0, body.length / 2);
            out.flush();
            // Let the server start staging the part, so the disconnect cuts a file being written.
            Eventually.get(() -> stagedFiles() > 0, staged -> staged);
        }
        Eventually.get(() -> stagedFiles() == 0, empty -> empty);
        server.assertNothingLeft();

        assertThat(server.deploy(Packages.zip(TestModels.echo("after-all")))).containsEntry("state", "READY");
    }

    @Test
    void manifestThatIsNotJsonIsRefused() throws Exception {
        assertRefused(Packages.zip(withManifest("{\"name\": \"x\", ")), 400, "deploy.json: not valid JSON");
    }

    @Test
    void manifestWithAFieldOfTheWrongTypeIsRefused() throws Exception {
        assertRefused(Packages.zip(withManifest("{\"name\": \"typed\", \"limits\": {\"timeout_ms\": \"soon\"}}")),
                400, "deploy.json: limits.timeout_ms");
        assertRefused(Packages.zip(withManifest("{\"name\": 42}")), 400, "deploy.json: name must be a string");
    }

    @Test
    void packageWithoutManifestIsRefused() throws Exception {
        Map<String, byte[]> files = TestModels.echo("bare");
        files.remove("deploy.json");

        assertRefused(Packages.zip(files), 400, "the package has no deploy.json at its root");
    }

    @Test
    void twoModelClassesWithoutEntryAreRefusedNamingBoth() throws Exception {
        Map<String, byte[]> files = TestModels.echo("twins");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"twins\"}"));
        files.put("serving/META-INF/services/deployer.spi.Model", TestModels.bytes("example.Echo\nexample.Other\n"));

        assertRefused(Packages.zip(files), 400, "more than one model class found");
    }

    @Test
    void nestedArchiveIsStoredAsAFileAndNeverExpanded() throws Exception {
        byte[] inner = Packages.zip(with("../../escaped.txt"));
        Map<String, byte[]> files = TestModels.echo("nested");
        files.put("model/inner.zip", inner);

        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "READY");
        Path folder = data.resolve("models/nested/" + d.get("deploy_id"));
        assertThat(Files.isRegularFile(folder.resolve("model/inner.zip"), LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.readAllBytes(folder.resolve("model/inner.zip"))).isEqualTo(inner);
        try (Stream<Path> all = Files.walk(data)) {
            assertThat(all.map(p -> p.getFileName().toString())).doesNotContain("escaped.txt", "inner");
        }
    }

    private static Map<String, byte[]> with(String extraEntry) {
        Map<String, byte[]> files = new LinkedHashMap<>(TestModels.echo("hostile"));
        files.put(extraEntry, TestModels.bytes("gotcha"));
        return files;
    }

    private static Map<String, byte[]> withManifest(String json) {
        Map<String, byte[]> files = new LinkedHashMap<>(TestModels.echo("hostile"));
        files.put("deploy.json", TestModels.bytes(json));
        return files;
    }

    private HttpRequest.Builder uploadRequest() {
        return HttpRequest.newBuilder(server.uri("/api/deployments?wait=5"))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .header("Content-Type", Multipart.contentType());
    }

    private void assertRefused(byte[] archive, int status, String messagePart) {
        server.assertRefused(archive, status, messagePart);
    }

    private void assertRefused(Multipart form, int status, String messagePart) {
        server.assertRefused(form, status, messagePart);
    }

    private long stagedFiles() {
        try (Stream<Path> files = Files.walk(data.resolve("staging"))) {
            return files.filter(Files::isRegularFile).count();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            // a file went away while listing: ask again
            return -1;
        }
    }
}
