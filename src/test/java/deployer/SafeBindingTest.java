package deployer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.Settings;
import deployer.core.SafeBinding;

/** Listening beyond this machine takes a token of the user's own; loopback needs none. */
class SafeBindingTest {

    @TempDir
    Path data;

    @Test
    void defaultsAreLoopbackOnly() {
        Settings defaults = Settings.defaults(data);

        assertThat(defaults.host()).isEqualTo("127.0.0.1");
        assertThat(defaults.cellHost()).isEqualTo("127.0.0.1");
        assertThat(defaults.token()).isEmpty();
    }

    @Test
    void loopbackNamesAndAddressesAreLoopback() {
        assertThat(SafeBinding.isLoopback("127.0.0.1")).isTrue();
        assertThat(SafeBinding.isLoopback("127.0.0.2")).isTrue();
        assertThat(SafeBinding.isLoopback("::1")).isTrue();
        assertThat(SafeBinding.isLoopback("[::1]")).isTrue();
        assertThat(SafeBinding.isLoopback("localhost")).isTrue();
        assertThat(SafeBinding.isLoopback("0.0.0.0")).isFalse();
        assertThat(SafeBinding.isLoopback("::")).isFalse();
        assertThat(SafeBinding.isLoopback("192.168.1.10")).isFalse();
        assertThat(SafeBinding.isLoopback("no-such-host.invalid")).isFalse();
    }

    @Test
    void allInterfacesWithoutATokenIsRefusedBeforeAnythingIsWritten() {
        Path folder = data.resolve("exposed");

        assertThatThrownBy(() -> Deployer.start(Settings.defaults(folder).withPort(0).withHost("0.0.0.0")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--host 0.0.0.0").hasMessageContaining("--token")
                .hasMessageContaining("admin.token");
        assertThat(folder).doesNotExist();
    }

    @Test
    void cellHostBeyondLoopbackWithoutATokenIsRefused() {
        assertThatThrownBy(() -> Deployer.start(Settings.defaults(data).withPort(0).withCellHost("0.0.0.0")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--cell-host 0.0.0.0").hasMessageContaining("--token");
    }

    @Test
    void aTokenOfTheUsersOwnAllowsOtherInterfacesOverInsecureHttpWithAWarning() {
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(SafeBinding.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            SafeBinding.check(Settings.defaults(data).withHost("0.0.0.0").withCellHost("0.0.0.0")
                    .withToken(TestServer.TOKEN).withSecurity(Settings.Security.NONE.withInsecureHttp(true)));
        } finally {
            logger.detachAppender(lines);
        }
        assertThat(lines.list).extracting(e -> e.getLevel().toString() + " " + e.getFormattedMessage())
                .anySatisfy(line -> assertThat(line).startsWith("WARN --host 0.0.0.0").contains("--insecure-http"))
                .anySatisfy(line -> assertThat(line).startsWith("WARN --cell-host 0.0.0.0"));
    }

    @Test
    void otherInterfacesInClearTextWithoutInsecureHttpAreRefused() {
        assertThatThrownBy(() -> SafeBinding.check(Settings.defaults(data).withCellHost("0.0.0.0")
                .withToken(TestServer.TOKEN)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--cell-host 0.0.0.0").hasMessageContaining("clear text")
                .hasMessageContaining("--tls-cert").hasMessageContaining("--insecure-http");
    }

    @Test
    void otherInterfacesWithTlsNeedNoInsecureHttp() {
        SafeBinding.check(Settings.defaults(data).withHost("0.0.0.0").withToken(TestServer.TOKEN)
                .withSecurity(Settings.Security.NONE.withPem(data.resolve("tls.crt"), data.resolve("tls.key"))));
    }

    @Test
    void aCertificateWithoutItsKeyIsABadCommandLine() {
        assertThat(Main.run("serve", "--port", "0", "--data", data.resolve("d").toString(), "--tls-cert",
                data.resolve("tls.crt").toString())).isEqualTo(2);
        assertThat(data.resolve("d")).doesNotExist();
    }

    @Test
    void insecureHttpWithTlsIsAContradiction() {
        assertThatThrownBy(() -> Settings.Security.NONE.withPem(data.resolve("a"), data.resolve("b"))
                .withInsecureHttp(true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--insecure-http");
    }

    @Test
    void theCommandLineSaysWhyAndExits1() throws Exception {
        Path log = data.resolve("refused.log");
        Process p = new ProcessBuilder(ChildServer.javaWithExitGuard().get(0), "-cp",
                System.getProperty("java.class.path"), "deployer.Main", "serve", "--host", "0.0.0.0", "--port", "0",
                "--data", data.resolve("d").toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();

        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(Files.readString(log)).contains("deployer: --host 0.0.0.0 would serve other machines");
    }
}
