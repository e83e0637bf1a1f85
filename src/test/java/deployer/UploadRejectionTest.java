package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/** Bad packages and bad callers get a clear 4xx, and leave no row, no folder and nothing in staging. */
class UploadRejectionTest extends ServerTest {

    @Override
    Settings settings(Settings defaults) {
        return defaults.withMaxUploadMb(1);
    }

    @Test
    void entryClimbingOutOfThePackageIsRefused() throws Exception {
        assertRefused(Packages.zip(with("../evil.txt")), 400, "../evil.txt");
    }

    @Test
    void absoluteEntryIsRefused() throws Exception {
        assertRefused(Packages.zip(with("/etc/evil")), 400, "/etc/evil");
    }

    @Test
    void symlinkInTarIsRefused() throws Exception {
        assertRefused(Packages.tarGzWithSymlink("model/link", "/etc/passwd"), 400, "link");
    }

    @Test
    void duplicateEntryIsRefused() throws Exception {
        assertRefused(Packages.zipWithDuplicate("deploy.json"), 400, "deploy.json");
    }

    @Test
    void packageOverTheSizeCapIs413() throws Exception {
        Map<String, byte[]> files = TestModels.echo("huge");
        byte[] noise = new byte[1_500_000];
        new java.util.Random(7).nextBytes(noise);
        files.put("model/noise.bin", noise);
        assertRefused(Packages.zip(files), 413, "--max-upload-mb");
    }

    @Test
    void manifestWithUnknownKeyIsRefusedNamingIt() throws Exception {
        Map<String, byte[]> files = TestModels.echo("typo");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"typo\", \"entyr\": \"example.Echo\"}"));
        assertRefused(Packages.zip(files), 400, "entyr");
    }

    @Test
    void badModelNameIsRefused() throws Exception {
        Map<String, byte[]> files = TestModels.echo("x");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"Bad Name!\"}"));
        assertRefused(Packages.zip(files), 400, "Bad Name!");
    }

    @Test
    void notAnArchiveIsRefused() throws Exception {
        assertRefused("just text".getBytes(), 400, "neither a .zip nor a .tar.gz");
    }

    @Test
    void missingTokenIs401() {
        TestServer.Response r = server.send(HttpRequest.newBuilder(server.uri("/api/models")).GET());

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.error()).contains("Authorization: Bearer");
    }

    @Test
    void wrongTokenIs401AndUploadsNothing() throws Exception {
        byte[] body = new Multipart().file("package", "p.zip", Packages.zip(TestModels.echo("sneaky"))).build();
        TestServer.Response r = server.send(HttpRequest.newBuilder(server.uri("/api/deployments"))
                .header("Authorization", "Bearer not-the-token-at-all")
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.error()).contains("wrong token");
        server.assertNothingLeft();
    }

    @Test
    void unknownDeploymentAndModelAre404() {
        assertThat(server.get("/api/deployments/999").status()).isEqualTo(404);
        assertThat(server.get("/api/models/nobody").status()).isEqualTo(404);
        assertThat(server.predict("nobody", "{}").status()).isEqualTo(404);
        assertThat(server.get("/api/nothing-here").status()).isEqualTo(404);
    }

    @Test
    void badWaitParameterIs400() {
        TestServer.Response r = server.upload(Packages.zip(TestModels.echo("impatient")), "wait=soon");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.error()).contains("wait");
    }

    private static Map<String, byte[]> with(String extraEntry) {
        Map<String, byte[]> files = new LinkedHashMap<>(TestModels.echo("hostile"));
        files.put(extraEntry, TestModels.bytes("gotcha"));
        return files;
    }

    private void assertRefused(byte[] archive, int status, String messagePart) {
        server.assertRefused(archive, status, messagePart);
    }
}
