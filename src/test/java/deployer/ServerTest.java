package deployer;

import deployer.testing.TestDatabase;
import deployer.core.Settings;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What most server tests share: a real deployer per test (in-process, port 0, cells on free ports, H2 in a temp
 * folder, or PostgreSQL for a class that says so in {@link #database()}), and a second temp folder for what the test
 * builds (jars, gates). A class that needs other settings overrides {@link #settings}; a {@code @BeforeEach} of its
 * own runs after the server is up.
 */
abstract class ServerTest {

    @TempDir
    Path data;

    @TempDir
    Path work;

    TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(settings(TestServer.defaults(data)).withDb(database().fresh()));
    }

    /** The database the server keeps its records in; a test class run on each overrides it with its parameter. */
    TestDatabase database() {
        return TestDatabase.H2;
    }

    /** The settings hook: {@code defaults} are the test defaults on this test's data folder. */
    Settings settings(Settings defaults) {
        return defaults;
    }

    @AfterEach
    void stop() {
        server.close();
    }
}
