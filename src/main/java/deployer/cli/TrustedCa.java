package deployer.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The client's trust for {@code --tls-ca FILE} / {@code DEPLOYER_TLS_CA}: the JDK's own CAs plus the certificates in
 * that PEM file. The server's name is still checked against its certificate, as for any https call.
 */
final class TrustedCa {

    private TrustedCa() {
    }

    /** @throws CliFailure USAGE naming the file when it holds no readable certificate */
    static SSLContext context(Path file, String source) {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(file)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (IOException e) {
            throw CliFailure.usage(source + " " + file + ": cannot read it (" + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw CliFailure.usage(source + " " + file + ": not a PEM certificate (" + e.getMessage() + ")");
        }
        if (certificates.isEmpty()) {
            throw CliFailure.usage(source + " " + file + ": holds no '-----BEGIN CERTIFICATE-----' block");
        }
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (Certificate c : certificates) {
                store.setCertificateEntry("ca-" + n++, c);
            }
            List<TrustManager> managers = new ArrayList<>();
            managers.add(merged(trustManager(store), trustManager(null)));
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, managers.toArray(new TrustManager[0]), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw CliFailure.usage(source + " " + file + ": cannot be used as a trust store (" + e.getMessage()
                    + ")");
        }
    }

    private static X509TrustManager trustManager(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        for (TrustManager m : factory.getTrustManagers()) {
            if (m instanceof X509TrustManager x509) {
                return x509;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    /**
     * Trusts what the given CAs sign, else what the JDK's do. Both are the JDK's own managers (extended ones, so the
     * host name is checked as usual); this only tries one, then the other.
     */
    private static X509TrustManager merged(X509TrustManager given, X509TrustManager jdk) {
        return new javax.net.ssl.X509ExtendedTrustManager() {
            private javax.net.ssl.X509ExtendedTrustManager ext(X509TrustManager m) {
                return (javax.net.ssl.X509ExtendedTrustManager) m;
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
                    throws java.security.cert.CertificateException {
                try {
                    ext(given).checkServerTrusted(chain, authType, socket);
                } catch (java.security.cert.CertificateException e) {
                    ext(jdk).checkServerTrusted(chain, authType, socket);
                }
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
                    throws java.security.cert.CertificateException {
                try {
                    ext(given).checkServerTrusted(chain, authType, engine);
                } catch (java.security.cert.CertificateException e) {
                    ext(jdk).checkServerTrusted(chain, authType, engine);
                }
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType)
                    throws java.security.cert.CertificateException {
                try {
                    given.checkServerTrusted(chain, authType);
                } catch (java.security.cert.CertificateException e) {
                    jdk.checkServerTrusted(chain, authType);
                }
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
                    throws java.security.cert.CertificateException {
                ext(jdk).checkClientTrusted(chain, authType, socket);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
                    throws java.security.cert.CertificateException {
                ext(jdk).checkClientTrusted(chain, authType, engine);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType)
                    throws java.security.cert.CertificateException {
                jdk.checkClientTrusted(chain, authType);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                List<X509Certificate> all = new ArrayList<>(List.of(given.getAcceptedIssuers()));
                all.addAll(List.of(jdk.getAcceptedIssuers()));
                return all.toArray(new X509Certificate[0]);
            }
        };
    }
}
