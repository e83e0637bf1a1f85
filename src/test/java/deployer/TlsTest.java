package deployer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.testing.Certificates;
import deployer.testing.Handshake;
import deployer.testing.Packages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.Settings;

/**
 * TLS on every port with certificates made here by keytool: the handshake on the main port and a cell port, https
 * in the URLs the API reports, the health loop's pings over TLS (a deploy reaches READY only if they pass), PEM and
 * PKCS#12, and a certificate renewed under load with no failed request.
 */
class TlsTest {

    @TempDir
    Path data;

    @TempDir
    Path certs;

    private static HttpClient client(SSLContext trust) {
        return HttpClient.newBuilder().sslContext(trust).connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    private Settings settings(Settings.Security security) {
        return Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any()).withToken(TestServer.TOKEN)
                .withSecurity(security);
    }

    private static X509Certificate peer(HttpResponse<?> response) throws Exception {
        return (X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0];
    }

    @Test
    void everyPortHandshakesWithThePemCertificateAndTheApiReportsHttps() throws Exception {
        Certificates.Made cert = Certificates.make(certs, "server", "EC");
        HttpClient http = client(cert.trusting());
        try (TestServer server = TestServer.start(settings(Settings.Security.NONE.withPem(cert.certPem(),
                cert.keyPem())), http)) {
            assertThat(server.uri("/").getScheme()).isEqualTo("https");

            // READY means the server's own pings reached the cell's port over TLS.
            Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("secure")));
            assertThat(d.get("state")).isEqualTo("READY");
            String url = (String) d.get("url");
            assertThat(url).startsWith("https://");

            HttpResponse<String> main = http.send(HttpRequest.newBuilder(server.uri("/models/secure/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"x\": 1}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(main.statusCode()).as(main.body()).isEqualTo(200);
            assertThat(peer(main)).isEqualTo(cert.certificate());

            HttpResponse<String> cell = http.send(HttpRequest.newBuilder(URI.create(url + "/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"x\": 2}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(cell.statusCode()).as(cell.body()).isEqualTo(200);
            assertThat(cell.body()).contains("\"x\":2");
            assertThat(peer(cell)).isEqualTo(cert.certificate());

            assertThat(((List<?>) server.get("/api/models").list()).stream().map(m -> TestServer.asMap(m).get("url")))
                    .containsExactly(url);
        }
    }

    @Test
    void aCellPortThatClosesLeavesTlsServingOnTheOthers() throws Exception {
        Certificates.Made cert = Certificates.make(certs, "server", "EC");
        try (TestServer server = TestServer.start(settings(Settings.Security.NONE.withPem(cert.certPem(),
                cert.keyPem())), client(cert.trusting()))) {
            String first = (String) server.deploy(Packages.zip(TestModels.echo("first"))).get("url");
            String second = (String) server.deploy(Packages.zip(TestModels.echo("second"))).get("url");

            TestServer.Response stopped = server.send(HttpRequest.newBuilder(server.uri("/api/models/first/stop"))
                    .header("Authorization", "Bearer " + TestServer.TOKEN).POST(HttpRequest.BodyPublishers.noBody()));
            assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);

            assertThat(Handshake.post(cert.trusting(), URI.create(second + "/predict"), "1").status())
                    .startsWith("200");
            TestServer.Response started = server.send(HttpRequest.newBuilder(server.uri("/api/models/first/start"))
                    .header("Authorization", "Bearer " + TestServer.TOKEN).POST(HttpRequest.BodyPublishers.noBody()));
            assertThat(started.status()).as(started.text()).isEqualTo(200);
            assertThat(Handshake.post(cert.trusting(), URI.create(first + "/predict"), "1").status())
                    .startsWith("200");
            assertThat(server.get("/api/models").status()).isEqualTo(200);
        }
    }

    @Test
    void plainHttpOnATlsPortGetsNoAnswer() throws Exception {
        Certificates.Made cert = Certificates.make(certs, "server", "EC");
        try (TestServer server = TestServer.start(settings(Settings.Security.NONE.withPem(cert.certPem(),
                cert.keyPem())), client(cert.trusting()))) {
            URI plain = URI.create("http://127.0.0.1:" + server.port() + "/api/models");
            HttpClient clear = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            try {
                HttpResponse<String> r = clear.send(HttpRequest.newBuilder(plain).timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + TestServer.TOKEN).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as("a clear-text call must not reach the API").isNotEqualTo(200);
                assertThat(r.body()).doesNotContain("[");
            } catch (IOException refused) {
                // Jetty closes the connection: nothing was served in clear text
            }
        }
    }

    @Test
    void aPkcs12KeystoreServesToo() throws Exception {
        Certificates.Made cert = Certificates.make(certs, "server", "RSA");
        HttpClient http = client(cert.trusting());
        try (TestServer server = TestServer.start(settings(Settings.Security.NONE.withKeystore(cert.keystore(),
                Certificates.PASSWORD)), http)) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri("/api/models"))
                    .header("Authorization", "Bearer " + TestServer.TOKEN).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(peer(r)).isEqualTo(cert.certificate());
        }
    }

    @Test
    void aWrongKeystorePasswordStopsTheStartNamingTheFlag() throws Exception {
        Certificates.Made cert = Certificates.make(certs, "server", "EC");
        assertThatThrownBy(() -> Deployer.start(settings(Settings.Security.NONE.withKeystore(cert.keystore(),
                "not-the-password"))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--tls-keystore").hasMessageContaining("--tls-keystore-password");
    }

    @Test
    void aKeyOfAnotherCertificateStopsTheStartNamingTheFile() throws Exception {
        Certificates.Made one = Certificates.make(certs, "one", "EC");
        Certificates.Made two = Certificates.make(certs, "two", "EC");
        assertThatThrownBy(() -> Deployer.start(settings(Settings.Security.NONE.withPem(one.certPem(),
                two.keyPem()))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--tls-key " + two.keyPem()).hasMessageContaining("does not belong");
    }

    @Test
    void aRenewedCertificateIsServedWhileClientsKeepCallingWithNoFailedRequest() throws Exception {
        Certificates.Made first = Certificates.make(certs, "first", "EC");
        Certificates.Made second = Certificates.make(certs, "second", "EC");
        Path live = Files.createDirectories(certs.resolve("live"));
        Path cert = live.resolve("tls.crt");
        Path key = live.resolve("tls.key");
        Certificates.install(first, cert, key);
        SSLContext both = Certificates.trusting(List.of(first.certificate(), second.certificate()));
        HttpClient keepAlive = client(both);
        try (TestServer server = TestServer.start(settings(Settings.Security.NONE.withPem(cert, key)), keepAlive)) {
            String url = (String) server.deploy(Packages.zip(TestModels.echo("renewed"))).get("url");
            List<URI> targets = List.of(URI.create(url + "/predict"), server.uri("/models/renewed/predict"));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger calls = new AtomicInteger();
            AtomicReference<String> failure = new AtomicReference<>();
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                for (int t = 0; t < 4; t++) {
                    int n = t;
                    callers.submit(() -> {
                        // Half the callers keep their connection; the others handshake on every call.
                        while (!stop.get()) {
                            URI target = targets.get(n / 2);
                            try {
                                String status;
                                if (n % 2 == 0) {
                                    HttpResponse<String> r = keepAlive.send(HttpRequest.newBuilder(target)
                                            .POST(HttpRequest.BodyPublishers.ofString("1")).build(),
                                            HttpResponse.BodyHandlers.ofString());
                                    status = r.statusCode() + " " + r.body();
                                } else {
                                    status = Handshake.post(both, target, "1").status();
                                }
                                if (!status.startsWith("200")) {
                                    failure.compareAndSet(null, status);
                                }
                                calls.incrementAndGet();
                            } catch (Exception e) {
                                failure.compareAndSet(null, e.toString());
                            }
                        }
                        return null;
                    });
                }
                Eventually.get(calls::get, n -> n > 20);
                // A renewal caught halfway first: the new key beside the old certificate must not break anything.
                Certificates.copyAtomically(second.keyPem(), key);
                int before = calls.get();
                Eventually.get(calls::get, n -> n > before + 20);
                Certificates.copyAtomically(second.certPem(), cert);

                X509Certificate served = Eventually.get(() -> {
                    try {
                        return Handshake.post(both, URI.create(url + "/predict"), "1").certificate();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, c -> c.equals(second.certificate()));
                assertThat(served).isEqualTo(second.certificate());
                int renewed = calls.get();
                Eventually.get(calls::get, n -> n > renewed + 20);
            } finally {
                stop.set(true);
                callers.shutdown();
                assertThat(callers.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
            assertThat(failure.get()).as("a call failed during the renewal").isNull();
            // The pings, over the renewed certificate too, still find the cell healthy.
            assertThat(server.get("/api/models/renewed").object().get("active").toString()).contains("READY");
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateIsRefusedTheHandshake() throws Exception {
        Certificates.Made cert = Certificates.make(certs, "server", "EC");
        Certificates.Made other = Certificates.make(certs, "other", "EC");
        try (TestServer server = TestServer.start(settings(Settings.Security.NONE.withPem(cert.certPem(),
                cert.keyPem())), client(cert.trusting()))) {
            HttpClient wrong = client(other.trusting());
            assertThatThrownBy(() -> wrong.send(HttpRequest.newBuilder(server.uri("/health")).build(),
                    HttpResponse.BodyHandlers.discarding()))
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }
}
