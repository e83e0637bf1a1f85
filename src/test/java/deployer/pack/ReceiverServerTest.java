package deployer.pack;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A {@link ReceiverServer} per test, staging into a temp folder under small limits. */
abstract class ReceiverServerTest {

    static final long MAX_UPLOAD = 256 * 1024;
    static final PackLimits LIMITS = new PackLimits(MAX_UPLOAD, 20, 100, 1 << 20);

    @TempDir
    Path temp;

    ReceiverServer server;

    @BeforeEach
    void startServer() throws Exception {
        server = new ReceiverServer(temp.resolve("staging"), LIMITS);
    }

    @AfterEach
    void stopServer() throws Exception {
        server.close();
    }
}
