package deployer.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds a {@code multipart/form-data} body byte by byte, so a test controls exactly what is sent. */
public final class Multipart {

    public static final String BOUNDARY = "deployer-test-boundary-7MA4YWxkTrZu0gW";

    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    /** A part with a filename, as a file input sends it. */
    public Multipart file(String name, String filename, byte[] content) {
        return part("Content-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename + "\"\r\n"
                + "Content-Type: application/octet-stream\r\n", content);
    }

    /** A part without a filename, as a text field sends it. */
    public Multipart field(String name, byte[] content) {
        return part("Content-Disposition: form-data; name=\"" + name + "\"\r\n", content);
    }

    /** A part with the given header lines (each ending in CRLF), for hostile headers. */
    public Multipart part(String headers, byte[] content) {
        write("--" + BOUNDARY + "\r\n" + headers + "\r\n");
        body.writeBytes(content);
        write("\r\n");
        return this;
    }

    /** The body, closed by the final boundary. */
    public byte[] build() {
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        copy.writeBytes(body.toByteArray());
        copy.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return copy.toByteArray();
    }

    /** The {@code Content-Type} header for this body. */
    public static String contentType() {
        return "multipart/form-data; boundary=" + BOUNDARY;
    }

    private void write(String text) {
        body.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }
}
