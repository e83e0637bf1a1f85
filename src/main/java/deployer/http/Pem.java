package deployer.http;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and private keys in PEM, the way Let's Encrypt and Kubernetes secrets hand them out, read with the
 * JDK alone: a chain of {@code CERTIFICATE} blocks, and a key as {@code PRIVATE KEY} (PKCS#8),
 * {@code RSA PRIVATE KEY} (PKCS#1) or {@code EC PRIVATE KEY} (SEC 1). The last two are wrapped into PKCS#8 with
 * the algorithm identifier of the certificate's own public key, which names the algorithm and, for EC, the curve.
 */
final class Pem {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

    private Pem() {
    }

    /** A private key and the certificate chain it belongs to, leaf first. */
    record KeyPair(PrivateKey key, List<X509Certificate> chain) {
    }

    /**
     * Reads a certificate chain and its key, and checks that the key is the one of the first certificate.
     *
     * @param certName what to call the certificate file in an error ({@code --tls-cert /etc/tls/tls.crt})
     * @param keyName what to call the key file in an error
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    static KeyPair read(byte[] certPem, String certName, byte[] keyPem, String keyName) {
        List<X509Certificate> chain = certificates(certPem, certName);
        PrivateKey key = privateKey(keyPem, keyName, chain.get(0).getPublicKey());
        if (!matches(key, chain.get(0).getPublicKey())) {
            throw new IllegalArgumentException(keyName + ": this key does not belong to the first certificate of "
                    + certName + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        return new KeyPair(key, chain);
    }

    /** Every {@code CERTIFICATE} block of a PEM text, in order; at least one. */
    static List<X509Certificate> certificates(byte[] pem, String name) {
        List<X509Certificate> chain = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Block block : blocks(pem)) {
                if (block.label().equals("CERTIFICATE")) {
                    chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
                }
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException(name + ": not a readable X.509 certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IllegalArgumentException(name + ": holds no '-----BEGIN CERTIFICATE-----' block (PEM)");
        }
        return chain;
    }

    private static PrivateKey privateKey(byte[] pem, String name, PublicKey certKey) {
        for (Block block : blocks(pem)) {
            byte[] pkcs8 = switch (block.label()) {
                case "PRIVATE KEY" -> block.der();
                case "RSA PRIVATE KEY", "EC PRIVATE KEY" -> wrap(block.der(), certKey);
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(name + ": the key is encrypted;"
                        + " the server reads unencrypted keys only (openssl pkcs8 -topk8 -nocrypt -in KEY decrypts"
                        + " it), or use --tls-keystore with a PKCS#12 file and its password");
                default -> null;
            };
            if (pkcs8 == null) {
                continue;
            }
            try {
                return KeyFactory.getInstance(certKey.getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException(name + ": not a readable " + certKey.getAlgorithm()
                        + " private key (" + block.label() + "): " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException(name + ": holds no private key block (PEM '-----BEGIN PRIVATE KEY-----',"
                + " 'RSA PRIVATE KEY' or 'EC PRIVATE KEY')");
    }

    /** PKCS#8 {@code SEQUENCE {INTEGER 0, AlgorithmIdentifier, OCTET STRING key}}, the identifier from the SPKI. */
    private static byte[] wrap(byte[] rawKey, PublicKey certKey) {
        byte[] spki = certKey.getEncoded();
        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
        int inner = headerLength(spki, 0);
        int algorithmLength = headerLength(spki, inner) + contentLength(spki, inner);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.write(spki, inner, algorithmLength);
        body.writeBytes(tlv(0x04, rawKey));
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xFFFFFF ? 4 : n > 0xFFFF ? 3 : n > 0xFF ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    /** The bytes of a DER element's tag and length at {@code at}. */
    static int headerLength(byte[] der, int at) {
        int first = der[at + 1] & 0xFF;
        return first < 0x80 ? 2 : 2 + (first & 0x7F);
    }

    /** The length of a DER element's content at {@code at}. */
    static int contentLength(byte[] der, int at) {
        int first = der[at + 1] & 0xFF;
        if (first < 0x80) {
            return first;
        }
        int n = 0;
        for (int i = 0; i < (first & 0x7F); i++) {
            n = (n << 8) | (der[at + 2 + i] & 0xFF);
        }
        return n;
    }

    /** Whether {@code key} signs what {@code publicKey} verifies: the pair a server presents must be one. */
    static boolean matches(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (publicKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "RSASSA-PSS" -> "RSASSA-PSS";
            default -> publicKey.getAlgorithm();
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            if (algorithm.equals("RSASSA-PSS")) {
                signer.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                        java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
            }
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            if (algorithm.equals("RSASSA-PSS")) {
                verifier.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                        java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
            }
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private record Block(String label, byte[] der) {
    }

    private static List<Block> blocks(byte[] pem) {
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(new String(pem, StandardCharsets.US_ASCII));
        while (m.find()) {
            try {
                blocks.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                // not base64 after all: a block we cannot read is one we do not have
            }
        }
        return blocks;
    }
}
