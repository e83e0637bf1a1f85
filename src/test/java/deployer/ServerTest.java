package deployer;

import deployer.testing.TestDatabase;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What most server tests share: a real deployer per test (in-process, port 0, cells on free ports, H2 in a temp
 * folder, or PostgreSQL for a class that says so in {@link #database()}), and a second temp folder for what the test
 * builds (jars, gates).
 */
abstract class ServerTest {

    @TempDir
    Path data;

    @TempDir
    Path work;

    TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(data, database());
    }

    /** The database the server keeps its records in; a test class run on each overrides it with its parameter. */
    TestDatabase database() {
        return TestDatabase.H2;
    }

    @AfterEach
    void stop() {
        server.close();
    }
}
