package deployer;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tests of a server in a child process share ({@link ChildServer}): its data folder, a folder for its logs,
 * a folder for what the test builds, and an HTTP client with the test token. Each test starts the servers it needs.
 */
abstract class ChildServerTest {

    @TempDir
    Path data;

    @TempDir
    Path logs;

    @TempDir
    Path work;

    final ChildHttp http = new ChildHttp();
}
