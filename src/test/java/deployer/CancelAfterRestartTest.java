package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A version killed with {@code kill -9} while its hour-long {@code load()} ran comes back STARTING after the restart
 * — and can be given up the same three ways as before it (issue 13, finding 6). The restart does not make deploy_ids
 * jump either (item 7: identity columns without a cache).
 */
class CancelAfterRestartTest extends ChildServerTest {

    @Test
    void startingVersionsRestoredAfterAKillAreCancelledByEachOfTheThreeCalls() throws Exception {
        long last = 0;
        try (ChildServer server = ChildServer.start(data, logs.resolve("first.log"))) {
            for (String name : new String[] {"by-cancel", "by-stop", "by-delete"}) {
                TestServer.Response r = http.upload(server, Packages.zip(CancelTest.hourLongLoad(work, name)), null);
                assertThat(r.status()).as(r.text()).isEqualTo(202);
                long id = ((Number) r.object().get("deploy_id")).longValue();
                assertThat(id).as("deploy_ids one after the other").isEqualTo(last == 0 ? id : last + 1);
                last = id;
                Eventually.get(() -> ChildHttp.orElse(() -> http.events(server, name), List.<Map<String, Object>>of()),
                        events -> events.stream().anyMatch(e -> "loading".equals(e.get("kind"))));
            }
            server.kill();
        }

        try (ChildServer again = ChildServer.start(data, logs.resolve("second.log"))) {
            for (String name : new String[] {"by-cancel", "by-stop", "by-delete"}) {
                Eventually.get(() -> ChildHttp.orElse(() -> http.events(again, name), List.<Map<String, Object>>of()),
                        events -> events.stream().anyMatch(e -> "restoring".equals(e.get("kind"))));
            }
            long cancelId = ((Number) http.versions(again, "by-cancel").get(0).get("deploy_id")).longValue();
            assertThat(http.versions(again, "by-cancel").get(0)).containsEntry("state", "STARTING");

            TestServer.Response cancelled = http.call(again, "POST", "/api/deployments/" + cancelId + "/cancel");
            assertThat(cancelled.status()).as(cancelled.text()).isEqualTo(200);
            assertThat(cancelled.object()).containsEntry("state", "FAILED").containsEntry("error", "cancelled");

            TestServer.Response stopped = http.call(again, "POST", "/api/models/by-stop/stop");
            assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);
            assertThat(stopped.object()).containsEntry("state", "FAILED").containsEntry("error", "cancelled");

            TestServer.Response deleted = http.send(HttpRequest.newBuilder(again.uri("/api/models/by-delete"))
                    .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
            assertThat(deleted.status()).as(deleted.text()).isEqualTo(204);
            assertThat(http.call(again, "GET", "/api/models/by-delete").status()).isEqualTo(404);

            Map<String, Object> next = http.upload(again, Packages.zip(TestModels.echo("fresh")), "wait=60").object();
            assertThat(next).containsEntry("state", "READY");
            assertThat(((Number) next.get("deploy_id")).longValue()).as("the first deploy_id after a kill -9")
                    .isEqualTo(last + 1);
        }
    }
}
