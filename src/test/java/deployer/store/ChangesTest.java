package deployer.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import deployer.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The change feed replicas follow, on H2 and on PostgreSQL: every change seen once, in order, by every follower. */
@ParameterizedClass
@EnumSource(TestDatabase.class)
class ChangesTest {

    @Parameter
    TestDatabase db;

    @TempDir
    Path dir;

    HikariDataSource dataSource;
    ScheduledExecutorService scheduler;

    @BeforeEach
    void open() {
        dataSource = db.open(dir);
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterEach
    void close() throws Exception {
        scheduler.shutdownNow();
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
        Database.shutdown(dataSource);
    }

    @Test
    void changesWrittenAtOnceByManyWritersReachAFollowerEachOnceInOrder() throws Exception {
        Changes a = new Changes(dataSource, "node-a");
        Changes b = new Changes(dataSource, "node-b");
        List<Change> seen = new CopyOnWriteArrayList<>();
        try (ChangeFeed feed = new ChangeFeed(new Changes(dataSource, "node-c"), a.last(), seen::add)
                .start(scheduler, Duration.ofMillis(20))) {
            List<CompletableFuture<Long>> writes = IntStream.range(0, 40).mapToObj(i -> CompletableFuture.supplyAsync(
                    () -> (i % 2 == 0 ? a : b).record(ChangeKind.ACTIVATE, "m" + i))).toList();
            writes.forEach(CompletableFuture::join);

            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() >= 40);
            assertThat(seen).hasSize(40);
            assertThat(seen).extracting(Change::id).isSorted().doesNotHaveDuplicates();
            assertThat(seen).extracting(Change::node).containsOnly("node-a", "node-b");
            assertThat(feed.cursor()).isEqualTo(a.last());
        }
    }

    @Test
    void aKindWrittenByANewerReplicaIsPassedOverAndTheFeedGoesOn() throws Exception {
        Changes changes = new Changes(dataSource, "here");
        List<Change> seen = new CopyOnWriteArrayList<>();
        ChangeFeed feed = new ChangeFeed(changes, changes.last(), seen::add);
        changes.record(ChangeKind.UPLOAD, "iris");
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            Changes.record(c, ChangeKind.STOP, "iris", "newer");
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE changes SET kind = 'hologram' WHERE node = 'newer'");
            }
            c.commit();
            c.setAutoCommit(true);
        }
        changes.record(ChangeKind.DELETE, "iris");

        assertThat(feed.poll()).isEqualTo(2);
        assertThat(seen).extracting(Change::kind).extracting(java.util.Optional::orElseThrow)
                .containsExactly(ChangeKind.UPLOAD, ChangeKind.DELETE);
        assertThat(feed.cursor()).isEqualTo(3);
        assertThat(feed.poll()).as("nothing new").isZero();
    }
}
