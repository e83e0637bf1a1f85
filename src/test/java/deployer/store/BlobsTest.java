package deployer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import deployer.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Package bytes as content-addressed blobs in the database, streamed in and out, on H2 and on PostgreSQL. */
@ParameterizedClass
@EnumSource(TestDatabase.class)
class BlobsTest {

    @Parameter
    TestDatabase db;

    @TempDir
    Path dir;

    HikariDataSource dataSource;
    Blobs blobs;

    @BeforeEach
    void open() {
        dataSource = db.open(dir);
        blobs = new Blobs(dataSource);
    }

    @AfterEach
    void close() {
        Database.shutdown(dataSource);
    }

    @Test
    void bytesOfSeveralChunksComeBackAsTheyWentInAndAreStoredOnce() throws Exception {
        byte[] bytes = new byte[Blobs.CHUNK * 2 + 12_345];
        new Random(7).nextBytes(bytes);
        String sha = sha256(bytes);

        assertThat(blobs.put(sha, new java.io.ByteArrayInputStream(bytes))).isTrue();
        assertThat(blobs.put(sha, failingStream())).as("the same bytes again: not read, not stored").isFalse();
        assertThat(blobs.size(sha)).contains((long) bytes.length);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(blobs.copyTo(sha, out)).isTrue();
        assertThat(out.toByteArray()).isEqualTo(bytes);
        assertThat(blobs.copyTo("0".repeat(64), OutputStream.nullOutputStream())).isFalse();
    }

    @Test
    void bytesThatAreNotWhatTheNameSaysAreRefusedAndNothingIsKept() throws Exception {
        byte[] bytes = new byte[Blobs.CHUNK + 1];
        String wrong = sha256("something else".getBytes());

        assertThatThrownBy(() -> blobs.put(wrong, new java.io.ByteArrayInputStream(bytes)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nothing was stored");
        assertThat(blobs.size(wrong)).isEmpty();
        try (var c = dataSource.getConnection(); var s = c.createStatement();
             var rs = s.executeQuery("SELECT COUNT(*) FROM blob_chunks")) {
            rs.next();
            assertThat(rs.getLong(1)).as("chunks left behind").isZero();
        }
    }

    @Test
    void aPackageLargerThanTheHeapStreamsInAndOutOfAServerWithASmallHeap() throws Exception {
        // 96 MiB through a JVM of 64 MiB heap: one that held a whole package would die of it.
        long size = 96L << 20;
        Database.shutdown(dataSource);
        String where = db == TestDatabase.H2 ? dir.toString() : db.fresh().url().orElseThrow();
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), BlobRoundTrip.class.getName(), where,
                Long.toString(size)).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(child.waitFor()).as(out).isZero();
        assertThat(out).contains("stored " + size + " bytes").contains("read " + size + " bytes, same sha256");
        dataSource = db == TestDatabase.H2 ? Database.open(dir) : Database.openPostgres(where, null, null);
    }

    @Test
    void twoReplicasStoringTheSameBytesAtOnceBothSucceedAndOneStoresThem() throws Exception {
        byte[] bytes = new byte[Blobs.CHUNK * 3];
        new Random(3).nextBytes(bytes);
        String sha = sha256(bytes);
        List<CompletableFuture<Boolean>> puts = List.of(
                CompletableFuture.supplyAsync(() -> put(sha, bytes)), CompletableFuture.supplyAsync(() -> put(sha,
                        bytes)));
        assertThat(puts.stream().map(CompletableFuture::join).filter(stored -> stored).count()).isEqualTo(1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        blobs.copyTo(sha, out);
        assertThat(out.toByteArray()).isEqualTo(bytes);
    }

    private boolean put(String sha, byte[] bytes) {
        try {
            return blobs.put(sha, new java.io.ByteArrayInputStream(bytes));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static InputStream failingStream() {
        return new InputStream() {
            @Override
            public int read() {
                throw new AssertionError("read a stream that was not needed");
            }
        };
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
