package deployer.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * One HTTPS call on a connection of its own ({@code Connection: close}), so every call is a fresh TLS handshake:
 * what a test needs to see which certificate the server presents now.
 */
public final class Handshake {

    /** The status line and the certificate the server presented. */
    public record Answer(String status, X509Certificate certificate) {
    }

    private Handshake() {
    }

    public static Answer post(SSLContext trust, URI uri, String body) throws IOException {
        try (SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            X509Certificate presented = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != -1 && c != '\r'; c = in.read()) {
                line.append((char) c);
            }
            in.readAllBytes();
            String status = line.toString();
            // "HTTP/1.1 200 OK" -> "200 OK"
            return new Answer(status.startsWith("HTTP/") ? status.substring(status.indexOf(' ') + 1) : status,
                    presented);
        }
    }
}
