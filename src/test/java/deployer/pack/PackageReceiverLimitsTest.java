package deployer.pack;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.apache.commons.fileupload2.core.MultipartInput;
import org.junit.jupiter.api.Test;

/** Limits and broken requests over real HTTP: the right 4xx, and nothing left in staging. */
class PackageReceiverLimitsTest extends ReceiverServerTest {

    @Test
    void nonMultipartRequestIsRejected() throws Exception {
        HttpResponse<String> response =
                server.send(BodyPublishers.ofString("{\"name\": \"iris\"}"), "application/json");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).startsWith("the upload must be multipart/form-data, not application/json");
        server.assertStagingEmpty();
    }

    @Test
    void uploadOverTheLimitWithContentLengthIs413() throws Exception {
        byte[] body = new Multipart().file("package", "p.zip", randomBytes(MAX_UPLOAD + 1)).build();

        HttpResponse<String> response = server.send(BodyPublishers.ofByteArray(body), Multipart.contentType());

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).startsWith("the upload is larger than 262144 bytes");
        server.assertStagingEmpty();
    }

    @Test
    void chunkedUploadOverTheLimitIs413() throws Exception {
        byte[] body = new Multipart().file("package", "p.zip", randomBytes(MAX_UPLOAD + 1)).build();

        HttpResponse<String> response = server.send(
                BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)), Multipart.contentType());

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).startsWith("the upload is larger than 262144 bytes");
        server.assertStagingEmpty();
    }

    @Test
    void chunkedPartsFormOverTheLimitIs413() throws Exception {
        byte[] body = new Multipart()
                .field("manifest", Packages.manifest("{\"name\": \"iris\"}"))
                .file("file", "model/w.bin", randomBytes(MAX_UPLOAD + 1))
                .build();

        HttpResponse<String> response = server.send(
                BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)), Multipart.contentType());

        assertThat(response.statusCode()).isEqualTo(413);
        server.assertStagingEmpty();
    }

    @Test
    void tooManyPartsIs400() throws Exception {
        Multipart upload = new Multipart().field("manifest", Packages.manifest("{\"name\": \"iris\"}"));
        for (int i = 0; i < 20; i++) {
            upload.file("file", "model/f" + i, new byte[] {1});
        }

        assertRejected(upload, 400, "the upload has more than 20 parts");
    }

    @Test
    void overlongPartHeadersAre400() throws Exception {
        String headers = "Content-Disposition: form-data; name=\"package\"; filename=\"p.zip\"\r\n"
                + "X-Padding: " + "a".repeat(11_000) + "\r\n";

        assertRejected(new Multipart().part(headers, Packages.zip(Packages.echoPackage("echo"))),
                400, "a part's headers are longer than " + MultipartInput.DEFAULT_PART_HEADER_SIZE_MAX + " bytes");
    }

    @Test
    void longPathInsideThePackageFitsThePartHeaderCap() throws Exception {
        String path = "model/" + "d/".repeat(150) + "weights.bin";

        HttpResponse<String> response = server.post(new Multipart()
                .field("manifest", Packages.manifest("{\"name\": \"iris\"}"))
                .file("file", path, new byte[] {1}));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body().lines()).contains(path);
    }

    @Test
    void multipartWithoutBoundaryIs400() throws Exception {
        HttpResponse<String> response = server.send(BodyPublishers.ofString("whatever"), "multipart/form-data");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).startsWith("the upload could not be read");
        server.assertStagingEmpty();
    }

    @Test
    void bodyCutOffBeforeItsEndIs400() throws Exception {
        byte[] body = new Multipart().file("package", "p.zip", Packages.zip(Packages.echoPackage("echo"))).build();
        byte[] cut = Arrays.copyOf(body, body.length - 60);

        HttpResponse<String> response = server.send(BodyPublishers.ofByteArray(cut), Multipart.contentType());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).startsWith("the upload could not be read");
        server.assertStagingEmpty();
    }

    @Test
    void clientDisconnectingMidUploadIs400AndLeavesNothing() throws Exception {
        byte[] body = new Multipart().file("package", "p.zip", randomBytes(100_000)).build();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + Multipart.contentType()
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(UTF_8));
            out.write(body, 0, body.length / 2);
            out.flush();
        }

        String outcome = server.nextOutcome(30);

        assertThat(outcome).startsWith("400 the upload could not be read");
        server.assertStagingEmpty();
    }

    @Test
    void brokenChunkedEncodingIs400AndLeavesNothing() throws Exception {
        byte[] part = new Multipart().file("package", "p.zip", randomBytes(10_000)).build();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + Multipart.contentType()
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(part.length / 2) + "\r\n")
                    .getBytes(UTF_8));
            out.write(part, 0, part.length / 2);
            out.write("\r\nnot-a-chunk-size\r\n".getBytes(UTF_8));
            out.flush();

            String outcome = server.nextOutcome(30);

            assertThat(outcome).startsWith("400 the upload could not be read");
        }
        server.assertStagingEmpty();
    }

    @Test
    void nulInAFilePartsFilenameIs400() throws Exception {
        assertRejected(new Multipart()
                        .field("manifest", Packages.manifest("{\"name\": \"iris\"}"))
                        .file("file", "model/a\u0000b", new byte[] {1}),
                400, "entry 'model/a\\u0000b' has a control character in its name");
    }

    private void assertRejected(Multipart upload, int status, String messageStart) throws Exception {
        HttpResponse<String> response = server.post(upload);

        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.body()).startsWith(messageStart);
        server.assertStagingEmpty();
    }

    private static byte[] randomBytes(long size) {
        byte[] bytes = new byte[(int) size];
        new Random(42).nextBytes(bytes);
        return bytes;
    }
}
