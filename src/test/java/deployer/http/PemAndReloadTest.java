package deployer.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.core.Settings;
import deployer.testing.Certificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEM as Let's Encrypt and Kubernetes hand it out (PKCS#8, PKCS#1 RSA, SEC 1 EC keys; a chain), and the reload of
 * renewed files, step by step: a half-done renewal keeps the old certificate, the finished one is taken.
 */
class PemAndReloadTest {

    @TempDir
    Path dir;

    /** The key inside a PKCS#8 structure: PKCS#1 for RSA, SEC 1 for EC (what openssl writes as "traditional"). */
    private static byte[] inner(byte[] pkcs8) {
        // PrivateKeyInfo ::= SEQUENCE { version, algorithm, OCTET STRING privateKey }: the last element.
        int at = Pem.headerLength(pkcs8, 0);
        at += 3; // INTEGER 0
        at += Pem.headerLength(pkcs8, at) + Pem.contentLength(pkcs8, at); // AlgorithmIdentifier
        int start = at + Pem.headerLength(pkcs8, at);
        return Arrays.copyOfRange(pkcs8, start, start + Pem.contentLength(pkcs8, at));
    }

    @Test
    void pkcs8KeysOfBothAlgorithmsAreRead() throws Exception {
        for (String algorithm : new String[] {"RSA", "EC"}) {
            Certificates.Made made = Certificates.make(dir, "p8-" + algorithm, algorithm);
            Pem.KeyPair pair = Pem.read(Files.readAllBytes(made.certPem()), "cert",
                    Files.readAllBytes(made.keyPem()), "key");
            assertThat(pair.key().getEncoded()).isEqualTo(made.key().getEncoded());
            assertThat(pair.chain()).containsExactly(made.certificate());
        }
    }

    @Test
    void traditionalRsaAndEcKeysAreRead() throws Exception {
        Certificates.Made rsa = Certificates.make(dir, "rsa", "RSA");
        byte[] pkcs1 = Certificates.pem("RSA PRIVATE KEY", inner(rsa.key().getEncoded()))
                .getBytes(StandardCharsets.US_ASCII);
        assertThat(Pem.read(Files.readAllBytes(rsa.certPem()), "cert", pkcs1, "key").key().getEncoded())
                .isEqualTo(rsa.key().getEncoded());

        Certificates.Made ec = Certificates.make(dir, "ec", "EC");
        byte[] sec1 = ("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                + Certificates.pem("EC PRIVATE KEY", inner(ec.key().getEncoded())))
                .getBytes(StandardCharsets.US_ASCII);
        assertThat(Pem.matches(Pem.read(Files.readAllBytes(ec.certPem()), "cert", sec1, "key").key(),
                ec.certificate().getPublicKey())).isTrue();
    }

    @Test
    void aChainKeepsItsOrderLeafFirst() throws Exception {
        Certificates.Made leaf = Certificates.make(dir, "leaf", "EC");
        Certificates.Made issuer = Certificates.make(dir, "issuer", "EC");
        byte[] chain = (Files.readString(leaf.certPem()) + Files.readString(issuer.certPem()))
                .getBytes(StandardCharsets.US_ASCII);
        assertThat(Pem.read(chain, "cert", Files.readAllBytes(leaf.keyPem()), "key").chain())
                .containsExactly(leaf.certificate(), issuer.certificate());
    }

    @Test
    void unusableFilesAreNamedWithWhatToDo() throws Exception {
        Certificates.Made made = Certificates.make(dir, "m", "EC");
        byte[] cert = Files.readAllBytes(made.certPem());
        assertThatThrownBy(() -> Pem.read("no pem here".getBytes(StandardCharsets.US_ASCII), "--tls-cert a.crt",
                Files.readAllBytes(made.keyPem()), "--tls-key a.key"))
                .hasMessageContaining("--tls-cert a.crt").hasMessageContaining("BEGIN CERTIFICATE");
        assertThatThrownBy(() -> Pem.read(cert, "--tls-cert a.crt", cert, "--tls-key a.key"))
                .hasMessageContaining("--tls-key a.key").hasMessageContaining("no private key");
        byte[] encrypted = Certificates.pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3})
                .getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> Pem.read(cert, "--tls-cert a.crt", encrypted, "--tls-key a.key"))
                .hasMessageContaining("--tls-key a.key").hasMessageContaining("encrypted");
    }

    @Test
    void aHalfDoneRenewalKeepsTheOldCertificateAndTheFinishedOneIsTaken() throws Exception {
        Certificates.Made first = Certificates.make(dir, "first", "EC");
        Certificates.Made second = Certificates.make(dir, "second", "EC");
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        Certificates.install(first, cert, key);
        // A watch that never fires by itself: the test takes its steps.
        try (Tls tls = Tls.start(Settings.Security.NONE.withPem(cert, key), 3_600_000)) {
            assertThat(tls.leaves()).containsExactly(first.certificate());

            Certificates.copyAtomically(second.keyPem(), key);
            tls.reloadIfChanged();
            assertThat(tls.leaves()).as("a new key beside the old certificate").containsExactly(first.certificate());

            Certificates.copyAtomically(second.certPem(), cert);
            tls.reloadIfChanged();
            assertThat(tls.leaves()).containsExactly(second.certificate());

            Files.writeString(cert, Files.readString(second.certPem()));
            tls.reloadIfChanged();
            assertThat(tls.leaves()).as("the same bytes written again").containsExactly(second.certificate());
        }
    }
}
