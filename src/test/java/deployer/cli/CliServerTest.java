package deployer.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server of its own for each test of a command that changes what the server holds (lifecycle, cancel), and a
 * client with no environment; {@link CliTest} is the one shared by the tests that only add models.
 */
abstract class CliServerTest {

    @TempDir
    Path data;

    CliServer server;

    final Cli cli = Cli.withoutEnvironment();

    @BeforeEach
    void start() throws Exception {
        server = CliServer.start(data);
    }

    @AfterEach
    void stop() {
        server.close();
    }
}
