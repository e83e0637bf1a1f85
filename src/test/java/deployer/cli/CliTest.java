package deployer.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the command-line tests share: a real server for the whole test class (in-process, port 0, a temp data
 * folder), a folder of each test's own, and the command line run in-process without the environment's variables.
 */
abstract class CliTest {

    @TempDir
    static Path data;

    static CliServer server;

    @TempDir
    Path work;

    final Cli cli = Cli.withoutEnvironment();

    @BeforeAll
    static void start() throws Exception {
        server = CliServer.start(data);
    }

    @AfterAll
    static void stop() {
        server.close();
    }
}
