package deployer.cell.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A starting server deletes the socket folders of children killed with their server, and only those: real folders
 * in the temporary folder, real Unix sockets, one of them with a live listener.
 */
class FrameAddressSweepTest {

    private final java.util.List<Path> made = new java.util.ArrayList<>();
    private ServerSocketChannel live;

    @AfterEach
    void clean() throws Exception {
        if (live != null) {
            live.close();
        }
        made.forEach(FrameAddress::deleteQuietly);
    }

    private Path folder() {
        Path folder = FrameAddress.newUnixFolder();
        assertThat(folder).as("Unix sockets in the temporary folder").isNotNull();
        made.add(folder);
        return folder;
    }

    private static ServerSocketChannel bind(Path folder) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(folder.resolve(FrameAddress.SOCKET)));
        return server;
    }

    @Test
    void deadChildrensFoldersGoAndLiveOrStartingOnesStay() throws Exception {
        Path dead = folder();
        bind(dead).close(); // a child SIGKILLed: its socket file is left, nobody listens
        Path alive = folder();
        live = bind(alive);
        Path starting = folder(); // made by a server, its child not bound yet
        Path abandoned = folder();
        Files.setLastModifiedTime(abandoned, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        assertThat(dead.resolve(FrameAddress.SOCKET)).exists();

        int deleted = FrameAddress.sweepStale(Duration.ofMinutes(10));

        assertThat(dead).doesNotExist();
        assertThat(abandoned).doesNotExist();
        assertThat(alive.resolve(FrameAddress.SOCKET)).exists();
        assertThat(starting).exists();
        assertThat(deleted).isGreaterThanOrEqualTo(2);
        // the live child still takes connections after the probe
        FrameAddress.unix(alive.resolve(FrameAddress.SOCKET)).connect().close();
    }
}
