package deployer.http;

import deployer.core.Settings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for every port: one Jetty {@link SslContextFactory.Server} built from PEM files ({@code --tls-cert},
 * {@code --tls-key}) or a PKCS#12 keystore ({@code --tls-keystore}), shared by the main connector and every cell
 * connector. The files are read again when their bytes change (a certificate renewed by certbot or cert-manager):
 * the factory is {@linkplain SslContextFactory#reload reloaded} in place, so connections already open keep their
 * session and new ones get the new certificate, with no request refused. A pair that does not load (a key written
 * before its certificate, say) leaves the one in use serving until the files agree again.
 */
public final class Tls implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Tls.class);
    /** How often the files are compared with what was loaded. */
    public static final long DEFAULT_WATCH_MS = 1000;
    private static final String ALIAS = "deployer";

    private final Settings.Security settings;
    private final SslContextFactory.Server factory = new SslContextFactory.Server();
    private final ScheduledExecutorService watch;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile String loadedDigest;
    private volatile String refusedDigest;
    /** The leaf certificates in use: what the server's own clients (the pinger) accept, with {@link #previous}. */
    private volatile List<X509Certificate> pinned = List.of();
    /** The ones before the last reload: a ping whose handshake began just before it still succeeds. */
    private volatile List<X509Certificate> previous = List.of();

    private record Loaded(KeyStore store, char[] password, List<X509Certificate> leaves) {
    }

    private Tls(Settings.Security settings, long watchMs) throws Exception {
        this.settings = settings;
        Loaded first = load();
        this.loadedDigest = digest();
        apply(factory, first);
        // No check that the Host header names the certificate: the health loop calls 127.0.0.1, and a load
        // balancer may call a pod by its address; the client's own verification is what matters.
        factory.setSniRequired(false);
        // AES-128-GCM before the JDK's first choice, AES-256-GCM: as strong a choice for TLS (what browsers and
        // curl prefer too) and fewer rounds per record; the rest keep the JDK's order.
        factory.setCipherComparator(Comparator.comparingInt(suite -> suite.contains("AES_128_GCM") ? 0 : 1));
        factory.setRenegotiationAllowed(false);
        factory.start();
        this.pinned = first.leaves();
        this.watch = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "deployer-tls-watch");
            t.setDaemon(true);
            return t;
        });
        watch.scheduleWithFixedDelay(this::reloadIfChanged, watchMs, watchMs, TimeUnit.MILLISECONDS);
        log.info("TLS on every port: {}", describe(first.leaves()));
    }

    /**
     * TLS as the settings say, or null when they name no certificate.
     *
     * @throws IllegalStateException naming the flag and file that could not be used
     */
    public static Tls start(Settings.Security settings) {
        return start(settings, DEFAULT_WATCH_MS);
    }

    /** As {@link #start(Settings.Security)}, comparing the files every {@code watchMs}. */
    public static Tls start(Settings.Security settings, long watchMs) {
        if (!settings.tls()) {
            return null;
        }
        try {
            return new Tls(settings, watchMs);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalStateException("TLS could not start: " + e.getMessage(), e);
        }
    }

    /** The connection factories of one TLS port: TLS, then HTTP/1.1 that reports {@code https}. */
    ConnectionFactory[] connectionFactories(HttpConfiguration plain) {
        HttpConfiguration secure = new HttpConfiguration(plain);
        SecureRequestCustomizer customizer = new SecureRequestCustomizer();
        customizer.setSniHostCheck(false);
        secure.addCustomizer(customizer);
        HttpConnectionFactory http = new HttpConnectionFactory(secure);
        return new ConnectionFactory[] {new SslConnectionFactory(factory, http.getProtocol()), http};
    }

    /**
     * A client context that trusts exactly the certificate this server presents (and, during a rotation, the one
     * before), whatever name it is reached by: what the server's own health pings use.
     */
    public SSLContext pinnedClientContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new X509ExtendedTrustManager[] {new PinnedTrust()}, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK offers no TLS context: " + e.getMessage(), e);
        }
    }

    /** Loads the files again if they changed since the last load; what the watch does every second. */
    void reloadIfChanged() {
        if (closed.get()) {
            return;
        }
        String now;
        try {
            now = digest();
        } catch (GeneralSecurityException e) {
            log.warn("cannot compare the TLS files with the loaded ones: {}", e.toString());
            return;
        }
        if (now.equals(loadedDigest) || now.equals(refusedDigest)) {
            return;
        }
        Loaded next;
        try {
            next = load();
        } catch (IllegalArgumentException | IOException | GeneralSecurityException e) {
            // Often a renewal caught halfway (a new key beside the old certificate): tried again when the files
            // change again; said once.
            refusedDigest = now;
            log.warn("TLS files changed but cannot be used yet, the previous certificate keeps serving: {}",
                    e.getMessage());
            return;
        }
        List<X509Certificate> before = pinned;
        try {
            // Trusted by the pings before Jetty presents it, and the old one still after.
            previous = before;
            pinned = next.leaves();
            factory.reload(f -> apply((SslContextFactory.Server) f, next));
        } catch (Exception e) {
            pinned = before;
            refusedDigest = now;
            log.warn("reloading the TLS certificate failed, the previous one keeps serving: {}", e.toString());
            return;
        }
        loadedDigest = now;
        refusedDigest = null;
        log.info("TLS certificate reloaded: {}", describe(next.leaves()));
    }

    /** The certificates in use now, leaf first of each chain. */
    public List<X509Certificate> leaves() {
        return pinned;
    }

    private static void apply(SslContextFactory.Server factory, Loaded loaded) {
        factory.setKeyStore(loaded.store());
        String password = new String(loaded.password());
        factory.setKeyStorePassword(password);
        factory.setKeyManagerPassword(password);
    }

    private Loaded load() throws IOException, GeneralSecurityException {
        if (settings.tlsKeystore().isPresent()) {
            Path file = settings.tlsKeystore().get();
            char[] password = settings.tlsKeystorePassword().orElse("").toCharArray();
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (var in = new ByteArrayInputStream(read("--tls-keystore", file))) {
                store.load(in, password);
            } catch (IOException e) {
                throw new IllegalArgumentException("--tls-keystore " + file + ": cannot open it as PKCS#12 (" + e.getMessage()
                        + "); is --tls-keystore-password right?", e);
            }
            List<X509Certificate> leaves = new ArrayList<>();
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias) && store.getCertificate(alias) instanceof X509Certificate leaf) {
                    leaves.add(leaf);
                }
            }
            if (leaves.isEmpty()) {
                throw new IllegalArgumentException("--tls-keystore " + file + ": holds no private key with its"
                        + " certificate");
            }
            return new Loaded(store, password, List.copyOf(leaves));
        }
        Path certFile = settings.tlsCert().orElseThrow();
        Path keyFile = settings.tlsKey().orElseThrow();
        Pem.KeyPair pair = Pem.read(read("--tls-cert", certFile), "--tls-cert " + certFile,
                read("--tls-key", keyFile), "--tls-key " + keyFile);
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        // The keystore lives in memory only; its password guards nothing but Jetty's API wants one.
        char[] password = Base64.getEncoder().encodeToString(random).toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(ALIAS, pair.key(), password, pair.chain().toArray(new Certificate[0]));
        return new Loaded(store, password, List.of(pair.chain().get(0)));
    }

    private static byte[] read(String flag, Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(flag + " " + file + ": cannot read it (" + e + ")", e);
        }
    }

    /** A digest of the files' bytes: a renewal changes it; a touch that changes nothing does not. */
    private String digest() throws GeneralSecurityException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Path file : List.of(settings.tlsKeystore(), settings.tlsCert(), settings.tlsKey()).stream()
                .flatMap(java.util.Optional::stream).toList()) {
            try {
                sha.update(Files.readAllBytes(file));
            } catch (IOException e) {
                sha.update(("missing " + file).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            sha.update((byte) 0);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String describe(List<X509Certificate> leaves) {
        StringBuilder text = new StringBuilder();
        for (X509Certificate leaf : leaves) {
            text.append(text.isEmpty() ? "" : "; ").append(leaf.getSubjectX500Principal().getName())
                    .append(", valid until ").append(leaf.getNotAfter().toInstant());
        }
        return text.toString();
    }

    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        watch.shutdownNow();
        try {
            factory.stop();
        } catch (Exception e) {
            log.warn("stopping TLS failed: {}", e.getMessage());
        }
    }

    /** Trusts the leaf certificates the server loaded, by equality, and nothing else. */
    private final class PinnedTrust extends X509ExtendedTrustManager {

        private void check(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("no certificate presented");
            }
            List<X509Certificate> own = new ArrayList<>(pinned);
            own.addAll(previous);
            for (X509Certificate known : own) {
                if (known.equals(chain[0])) {
                    chain[0].checkValidity();
                    return;
                }
            }
            throw new CertificateException("not this server's own certificate: "
                    + chain[0].getSubjectX500Principal().getName());
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client context");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a client context");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a client context");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
