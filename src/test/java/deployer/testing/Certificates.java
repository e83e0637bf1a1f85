package deployer.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made at test time by the JDK's {@code keytool} in a child process (no key is ever committed): a
 * self-signed one for {@code localhost} and {@code 127.0.0.1}, as a PKCS#12 keystore and as PEM files.
 */
public final class Certificates {

    public static final String PASSWORD = "test-password";

    /** One certificate and its key in every form the tests need. */
    public record Made(Path keystore, Path certPem, Path keyPem, X509Certificate certificate, PrivateKey key) {

        /** A client context that trusts this certificate (and nothing else). */
        public SSLContext trusting() {
            return Certificates.trusting(List.of(certificate));
        }
    }

    private Certificates() {
    }

    /** Makes a certificate named {@code name} in {@code dir}: {@code algorithm} is {@code RSA} or {@code EC}. */
    public static Made make(Path dir, String name, String algorithm) throws IOException, InterruptedException,
            GeneralSecurityException {
        Files.createDirectories(dir);
        Path keystore = dir.resolve(name + ".p12");
        Files.deleteIfExists(keystore);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        List<String> command = new java.util.ArrayList<>(List.of(keytool, "-genkeypair", "-alias", name,
                "-keyalg", algorithm, "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD));
        if (algorithm.equals("RSA")) {
            command.addAll(List.of("-keysize", "2048"));
        } else {
            command.addAll(List.of("-groupname", "secp256r1"));
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, PASSWORD.toCharArray());
        }
        X509Certificate certificate = (X509Certificate) store.getCertificate(name);
        PrivateKey key = (PrivateKey) store.getKey(name, PASSWORD.toCharArray());
        Path certPem = dir.resolve(name + ".crt");
        Path keyPem = dir.resolve(name + ".key");
        Files.writeString(certPem, pem("CERTIFICATE", certificate.getEncoded()));
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
        return new Made(keystore, certPem, keyPem, certificate, key);
    }

    /** A PEM block. */
    public static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /** Puts {@code made}'s PEM files in place of {@code cert} and {@code key}, each by an atomic move. */
    public static void install(Made made, Path cert, Path key) throws IOException {
        copyAtomically(made.keyPem(), key);
        copyAtomically(made.certPem(), cert);
    }

    public static void copyAtomically(Path from, Path to) throws IOException {
        Path temp = to.resolveSibling(to.getFileName() + ".new");
        Files.copy(from, temp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(temp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A client context that trusts exactly these certificates. */
    public static SSLContext trusting(List<X509Certificate> certificates) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int n = 0;
            for (X509Certificate c : certificates) {
                trust.setCertificateEntry("trusted-" + n++, c);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
