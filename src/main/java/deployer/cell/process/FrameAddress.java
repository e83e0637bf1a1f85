package deployer.cell.process;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a child takes the server's frames: a Unix domain socket in a folder of its own (owner-only, so no other user
 * of the box reaches the model past the server's admission), or, where those are not to be had, a loopback TCP port.
 *
 * @param unix the socket file; null for TCP
 * @param port the loopback port for TCP; 0 for a Unix socket
 */
record FrameAddress(Path unix, int port) {

    /** The socket's file name in its folder. */
    static final String SOCKET = "cell.sock";
    /** A Unix socket's path must fit {@code sun_path}: 108 bytes on Linux, 104 on macOS, with its final NUL. */
    static final int MAX_UNIX_PATH = 100;
    /** What {@code --frames} says for "no Unix socket: a loopback port". */
    static final String TCP = "tcp";

    static FrameAddress unix(Path socket) {
        return new FrameAddress(socket, 0);
    }

    static FrameAddress tcp(int port) {
        return new FrameAddress(null, port);
    }

    /** A fresh connection to the child, blocking. */
    SocketChannel connect() throws IOException {
        SocketChannel channel = unix != null ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open(StandardProtocolFamily.INET);
        try {
            if (unix == null) {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } else {
                channel.connect(UnixDomainSocketAddress.of(unix));
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Binds where {@code where} says: a folder for the Unix socket, or {@link #TCP}. */
    static ServerSocketChannel bind(String where) throws IOException {
        if (TCP.equals(where)) {
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return server;
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(Path.of(where).resolve(SOCKET)));
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * A new owner-only folder for one child's socket, short enough for {@code sun_path}: under the JDK's temporary
     * folder, or {@code /tmp} when that one's path is too long; null when Unix sockets cannot be had here (then the
     * hop is a loopback port).
     */
    static Path newUnixFolder() {
        for (Path base : new Path[] {Path.of(System.getProperty("java.io.tmpdir")), Path.of("/tmp")}) {
            if (base.toAbsolutePath().toString().length() + 16 + SOCKET.length() > MAX_UNIX_PATH
                    || !Files.isDirectory(base)) {
                continue;
            }
            Path folder = null;
            try {
                // createTempDirectory makes it rwx------ on POSIX.
                folder = Files.createTempDirectory(base.toAbsolutePath(), "dpc");
                if (folder.resolve(SOCKET).toString().length() <= MAX_UNIX_PATH && unixWorks(folder)) {
                    return folder;
                }
                Files.deleteIfExists(folder);
            } catch (IOException | UnsupportedOperationException e) {
                deleteQuietly(folder);
            }
        }
        return null;
    }

    /** Binds and drops a socket in {@code folder}: what the child will do, tried here first. */
    private static boolean unixWorks(Path folder) {
        Path probe = folder.resolve(SOCKET);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(probe));
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                // the child's bind will say so
            }
        }
    }

    /**
     * Deletes the socket folders of children that died with their server (a process-group kill, a power cut): a
     * child removes its own folder when it ends, and a server removes the folders of children it saw end, but a
     * {@code SIGKILL} of both leaves them. A folder of this user's whose socket refuses a connection is stale; one
     * with no socket yet is stale only past {@code emptyFor} (a child may be about to bind it); a socket that
     * answers belongs to a live child, of this server or another, and stays.
     *
     * @return the folders deleted
     */
    static int sweepStale(java.time.Duration emptyFor) {
        int deleted = 0;
        String user = System.getProperty("user.name");
        java.util.Set<Path> bases = new java.util.LinkedHashSet<>(List.of(
                Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize(), Path.of("/tmp")));
        for (Path base : bases) {
            if (!Files.isDirectory(base)) {
                continue;
            }
            try (java.nio.file.DirectoryStream<Path> folders = Files.newDirectoryStream(base, "dpc*")) {
                for (Path folder : folders) {
                    if (stale(folder, user, emptyFor)) {
                        deleteQuietly(folder);
                        deleted += Files.exists(folder) ? 0 : 1;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // a temporary folder that cannot be listed: nothing of ours to find there
            }
        }
        return deleted;
    }

    private static boolean stale(Path folder, String user, java.time.Duration emptyFor) {
        try {
            if (!Files.isDirectory(folder, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    || !Files.getOwner(folder).getName().equals(user)) {
                return false;
            }
            Path socket = folder.resolve(SOCKET);
            if (!Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try (java.util.stream.Stream<Path> inside = Files.list(folder)) {
                    return inside.findAny().isEmpty() && Files.getLastModifiedTime(folder).toInstant()
                            .isBefore(java.time.Instant.now().minus(emptyFor));
                }
            }
            try (SocketChannel probe = unix(socket).connect()) {
                return false; // a live child's
            } catch (java.net.ConnectException refused) {
                return true;
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** Deletes a socket folder made by {@link #newUnixFolder} with what is left in it (the socket file). */
    static void deleteQuietly(Path folder) {
        if (folder == null) {
            return;
        }
        try {
            Files.deleteIfExists(folder.resolve(SOCKET));
            Files.deleteIfExists(folder);
        } catch (IOException e) {
            // a leftover empty folder in the temporary folder: nothing to tell anyone
        }
    }

    @Override
    public String toString() {
        return unix != null ? "unix:" + unix : "tcp:" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + port;
    }
}
