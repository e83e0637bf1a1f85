package deployer.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Package bytes in the database, for replicas with no shared file system (DESIGN 1.12): each blob is named by the
 * SHA-256 of its bytes, so the same bytes are stored once whoever uploads them, and kept as rows of at most
 * {@link #CHUNK} bytes, so a package of any size passes through a fixed buffer — in and out, never whole in memory.
 * A blob is complete or absent: its chunks and its {@code blobs} row commit together, and both directions check the
 * bytes against the name.
 */
public final class Blobs {

    /** The bytes of one chunk row: large enough that a 2 GiB package is 2,048 rows, small enough to buffer. */
    static final int CHUNK = 1 << 20;

    private final DataSource dataSource;

    public Blobs(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The size of a stored blob, or empty when there is none of that name. */
    public Optional<Long> size(String sha256) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT size FROM blobs WHERE sha256 = ?")) {
            ps.setString(1, sha256);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StoreException("reading a blob's size", e);
        }
    }

    /**
     * Streams {@code in} into the blob {@code sha256}, unless one of that name is stored already (then {@code in} is
     * not read). Returns whether this call stored it. The bytes are hashed as they go: when they are not what the
     * name says, nothing is kept and this throws {@link IllegalArgumentException}. Two callers storing the same
     * blob at once both succeed; one of them stores it.
     */
    public boolean put(String sha256, InputStream in) throws IOException {
        if (size(sha256).isPresent()) {
            return false;
        }
        Connection c = null;
        try {
            c = dataSource.getConnection();
            c.setAutoCommit(false);
            MessageDigest digest = sha256();
            byte[] buffer = new byte[CHUNK];
            long size = 0;
            int seq = 0;
            try (PreparedStatement chunk = c.prepareStatement(
                    "INSERT INTO blob_chunks (sha256, seq, bytes) VALUES (?, ?, ?)")) {
                int n;
                while ((n = in.readNBytes(buffer, 0, CHUNK)) > 0) {
                    digest.update(buffer, 0, n);
                    chunk.setString(1, sha256);
                    chunk.setInt(2, seq++);
                    chunk.setBytes(3, n == CHUNK ? buffer : java.util.Arrays.copyOf(buffer, n));
                    chunk.executeUpdate();
                    size += n;
                }
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(sha256)) {
                c.rollback();
                throw new IllegalArgumentException("the bytes given for blob " + sha256 + " hash to " + actual
                        + "; nothing was stored");
            }
            try (PreparedStatement blob = c.prepareStatement(
                    "INSERT INTO blobs (sha256, size, chunks, created) VALUES (?, ?, ?, ?)")) {
                blob.setString(1, sha256);
                blob.setLong(2, size);
                blob.setInt(3, seq);
                blob.setTimestamp(4, Timestamp.from(Instant.now()));
                blob.executeUpdate();
            }
            c.commit();
            return true;
        } catch (SQLException e) {
            rollbackQuietly(c);
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            // Another caller stored the same bytes first: a duplicate key on its chunks or its row.
            if (state.startsWith("23") && size(sha256).isPresent()) {
                return false;
            }
            throw new StoreException("storing blob " + sha256, e);
        } catch (IOException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            closeQuietly(c);
        }
    }

    /**
     * Streams the blob {@code sha256} to {@code out}, one chunk at a time, checking it against its name; returns
     * false (writing nothing) when there is no such blob.
     *
     * @throws IOException from {@code out}, or when the stored bytes are not what the name says
     */
    public boolean copyTo(String sha256, OutputStream out) throws IOException {
        try (Connection c = dataSource.getConnection()) {
            int chunks;
            try (PreparedStatement ps = c.prepareStatement("SELECT chunks FROM blobs WHERE sha256 = ?")) {
                ps.setString(1, sha256);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    chunks = rs.getInt(1);
                }
            }
            MessageDigest digest = sha256();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT bytes FROM blob_chunks WHERE sha256 = ? AND seq = ?")) {
                for (int seq = 0; seq < chunks; seq++) {
                    ps.setString(1, sha256);
                    ps.setInt(2, seq);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new IOException("blob " + sha256 + " lacks chunk " + seq + " of " + chunks);
                        }
                        byte[] bytes = rs.getBytes(1);
                        digest.update(bytes);
                        out.write(bytes);
                    }
                }
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(sha256)) {
                throw new IOException("blob " + sha256 + " in the database hashes to " + actual);
            }
            return true;
        } catch (SQLException e) {
            throw new StoreException("reading blob " + sha256, e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static void rollbackQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the caller's failure says why
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.setAutoCommit(true);
            c.close();
        } catch (SQLException ignored) {
            // nothing more to do with it
        }
    }
}
