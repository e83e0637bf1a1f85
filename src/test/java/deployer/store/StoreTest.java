package deployer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import deployer.testing.TestDatabase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The state machine as the store holds it: every change one compare-and-set on the row, on a real H2 file and on a
 * real PostgreSQL database.
 */
@ParameterizedClass
@EnumSource(TestDatabase.class)
class StoreTest {

    @Parameter
    TestDatabase db;

    @TempDir
    Path dir;

    HikariDataSource dataSource;
    Store store;

    @BeforeEach
    void open() {
        dataSource = db.open(dir);
        store = new Store(dataSource);
    }

    @AfterEach
    void close() {
        Database.shutdown(dataSource);
    }

    @Test
    void theStateMachineHasTheContractsArrowsAndTheServersWaysOut() {
        assertThat(State.STARTING.allowedNext()).containsExactlyInAnyOrder(State.READY, State.FAILED);
        assertThat(State.READY.allowedNext()).contains(State.STOPPED, State.RETIRED);
        assertThat(State.STOPPED.allowedNext()).contains(State.STARTING);
        assertThat(State.FAILED.allowedNext()).containsExactly(State.STARTING);
        for (State s : State.values()) {
            assertThat(s.canBecome(s)).as("%s to itself", s).isFalse();
        }
    }

    @Test
    void ofTwoCallersRacingOnOneRowExactlyOneWins() throws Exception {
        for (int round = 0; round < 20; round++) {
            long id = insert("racy").deployId();
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Boolean>> racers = new ArrayList<>();
            racers.add(CompletableFuture.supplyAsync(() -> await(go, () -> store.fail(id, State.STARTING, 0,
                    "cancelled"))));
            racers.add(CompletableFuture.supplyAsync(() -> await(go, () -> store.activate("racy", id, 9100, 1,
                    false))));
            go.countDown();
            assertThat(racers.stream().map(CompletableFuture::join).filter(won -> won).count())
                    .as("round %d", round).isEqualTo(1);
            State now = store.deployment(id).orElseThrow().state();
            assertThat(now).isIn(State.READY, State.FAILED);
        }
    }

    @Test
    void aStaleChangeIsRefusedWithWhatTheRowIsNow() {
        long id = insert("stale").deployId();
        assertThat(store.transition(id, State.STARTING, State.FAILED)).isTrue();

        assertThat(store.transition(id, State.STARTING, State.FAILED)).isFalse();
        assertThatThrownBy(() -> store.require(id, State.STARTING, State.FAILED)).isInstanceOf(StaleState.class)
                .hasMessageContaining("is FAILED").hasMessageContaining("not STARTING");
        assertThatThrownBy(() -> store.transition(id, State.FAILED, State.RETIRED))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FAILED -> RETIRED");
        assertThat(store.activate("stale", id, 9100, 1, false)).as("a FAILED row is not promoted").isFalse();
        assertThat(store.model("stale").orElseThrow().activeDeployId()).isNull();
    }

    @Test
    void anUploadOfAModelBeingDeletedIsRefusedAndTheDeleteNamesWhatItRemoved() {
        long first = insert("doomed").deployId();
        assertThat(store.markDeleting("doomed")).isTrue();
        assertThat(store.markDeleting("doomed")).as("a second delete").isFalse();

        assertThatThrownBy(() -> insert("doomed")).isInstanceOf(StaleState.class)
                .hasMessageContaining("being deleted");
        assertThatThrownBy(() -> store.deleteModel("doomed", () -> {
            throw new IllegalStateException("the files did not move");
        })).hasMessageContaining("did not move");
        assertThat(store.deployment(first)).as("rolled back with the failed move").isPresent();

        assertThat(store.deleteModel("doomed", () -> { })).containsExactly(first);
        assertThat(store.model("doomed")).isEmpty();
        assertThat(insert("doomed").version()).isEqualTo(1);
    }

    @Test
    void aStartLeftByItsDeciderIsFailedByExactlyOneReplicaAndNotOnceDecidedAgain() throws Exception {
        Store x = new Store(dataSource, "x");
        Store y = new Store(dataSource, "y");
        for (int round = 0; round < 10; round++) {
            Deployment d = insert("left");
            x.event("left", d.version(), d.deployId(), "received", "package");
            x.event("left", d.version(), d.deployId(), "loading", "load()");
            Store.Decider decider = store.decider(d).orElseThrow();
            assertThat(decider.node()).isEqualTo("x");
            assertThat(store.starting()).extracting(Deployment::deployId).contains(d.deployId());
            // Two replicas find it at once: one fails it, the other sees 0 rows updated.
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Boolean>> racers = new ArrayList<>();
            for (Store replica : List.of(new Store(dataSource, "a"), new Store(dataSource, "b"))) {
                racers.add(CompletableFuture.supplyAsync(() -> await(go, () -> replica.failAbandoned(d, decider,
                        "node x stopped"))));
            }
            go.countDown();
            assertThat(racers.stream().map(CompletableFuture::join).filter(won -> won).count())
                    .as("round %d", round).isEqualTo(1);
            assertThat(store.deployment(d.deployId()).orElseThrow()).extracting(Deployment::state,
                    Deployment::error).containsExactly(State.FAILED, "node x stopped");
        }
        // Started again through y after the sweep read x as its decider: the sweep's compare-and-set misses.
        Deployment d = insert("again");
        x.event("again", d.version(), d.deployId(), "received", "package");
        Store.Decider stale = store.decider(d).orElseThrow();
        y.event("again", d.version(), d.deployId(), "starting", "starting on request");
        assertThat(store.decider(d).orElseThrow().node()).isEqualTo("y");
        assertThat(store.failAbandoned(d, stale, "node x stopped")).isFalse();
        assertThat(store.deployment(d.deployId()).orElseThrow().state()).isEqualTo(State.STARTING);
        assertThat(store.lastSeen("x")).as("a node with no replica row").isEmpty();
    }

    private Deployment insert(String model) {
        return store.insertDeployment(model, "0".repeat(64), 1, "{\"name\": \"" + model + "\"}", d -> { });
    }

    private static boolean await(CountDownLatch go, java.util.function.BooleanSupplier call) {
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return call.getAsBoolean();
    }
}
