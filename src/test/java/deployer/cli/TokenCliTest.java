package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.Deployer;
import deployer.core.Settings;
import deployer.testing.Certificates;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deployer token …}, and the client's certificate checks: refused without the CA, trusted with it. */
class TokenCliTest {

    @TempDir
    Path data;

    @TempDir
    Path certs;

    final Cli cli = Cli.withoutEnvironment();

    @Test
    void tokensAreMadeListedRevokedAndTheAdminOneRotated() throws Exception {
        try (CliServer server = CliServer.start(data)) {
            Cli.Run made = cli.run(server.with("token", "create", "ci", "--scope", "deploy"));
            assertThat(made.exit()).as(made.toString()).isZero();
            String token = made.out().strip();
            assertThat(token).hasSizeGreaterThan(30);
            assertThat(made.err()).contains("not shown again");

            Cli.Run asCi = cli.run("list", "--server", server.url(), "--token", token);
            assertThat(asCi.exit()).as(asCi.toString()).isZero();
            Cli.Run forbidden = cli.run("token", "list", "--server", server.url(), "--token", token);
            assertThat(forbidden.exit()).isNotZero();
            assertThat(forbidden.err()).contains("needs a token with scope admin").contains("HTTP 403");

            Cli.Run list = cli.run(server.with("token", "list"));
            assertThat(list.exit()).isZero();
            assertThat(list.out().lines().findFirst().orElseThrow()).matches("NAME +SCOPE +CREATED +EXPIRES");
            assertThat(list.out()).containsPattern("ci +deploy").doesNotContain(token);

            assertThat(cli.run(server.with("token", "revoke", "ci")).out()).contains("token 'ci' revoked");
            assertThat(cli.run("list", "--server", server.url(), "--token", token).exit()).isNotZero();

            Cli.Run rotated = cli.run(server.with("token", "rotate-admin", "--grace", "0"));
            assertThat(rotated.exit()).as(rotated.toString()).isZero();
            String admin = rotated.out().strip();
            assertThat(cli.run(server.with("list")).err()).contains("refused the token");
            assertThat(cli.run("token", "list", "--server", server.url(), "--token", admin).exit()).isZero();
        }
    }

    @Test
    void theClientRefusesAnUntrustedCertificateAndTrustsTheCaItIsGiven() throws Exception {
        Certificates.Made cert = Certificates.make(certs, "server", "EC");
        try (Deployer server = Deployer.start(Settings.defaults(data).withPort(0)
                .withCellPorts(Settings.PortRange.any()).withToken(CliServer.TOKEN)
                .withSecurity(Settings.Security.NONE.withPem(cert.certPem(), cert.keyPem())))) {
            String url = server.uri().toString();
            assertThat(url).startsWith("https://");

            Cli.Run untrusted = cli.run("list", "--server", url, "--token", CliServer.TOKEN);
            assertThat(untrusted.exit()).isNotZero();
            assertThat(untrusted.err()).contains("certificate of " + url.replaceAll("/$", "") + " (from --server)")
                    .contains("is not trusted").contains("--tls-ca FILE").contains("DEPLOYER_TLS_CA")
                    .doesNotContain("Exception\n\tat");

            Cli.Run flag = cli.run("list", "--server", url, "--token", CliServer.TOKEN, "--tls-ca",
                    cert.certPem().toString());
            assertThat(flag.exit()).as(flag.toString()).isZero();

            Cli.Run env = new Cli(Map.of("DEPLOYER_TLS_CA", cert.certPem().toString()))
                    .run("list", "--server", url, "--token", CliServer.TOKEN);
            assertThat(env.exit()).as(env.toString()).isZero();

            Certificates.Made other = Certificates.make(certs, "other", "EC");
            Cli.Run wrongCa = cli.run("list", "--server", url, "--token", CliServer.TOKEN, "--tls-ca",
                    other.certPem().toString());
            assertThat(wrongCa.exit()).isNotZero();
            assertThat(wrongCa.err()).contains("not signed by the CA in --tls-ca " + other.certPem());
        }
    }
}
