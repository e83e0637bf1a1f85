package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/**
 * {@code --require-score-token}: scoring on the gateway ({@code /models/**}, {@code /v2/**}) and on the cell's own
 * port takes a token of scope score (or admin); health stays open, so the server's own pings and probes pass.
 */
class ScoreTokenTest extends ServerTest {

    private String cell;

    @Override
    Settings settings(Settings defaults) {
        return defaults.withSecurity(Settings.Security.NONE.withRequireScoreToken(true));
    }

    @BeforeEach
    void deployGuarded() throws Exception {
        // READY: the pings reached /health without a token.
        cell = (String) server.deploy(Packages.zip(TestModels.echo("guarded"))).get("url");
    }

    private String token(String name, String scope) {
        TestServer.Response r = server.send(HttpRequest.newBuilder(server.uri("/api/tokens"))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\",\"scope\":\"" + scope + "\"}")));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return (String) r.object().get("token");
    }

    private int status(URI uri, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}"));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return server.send(request).status();
    }

    private List<URI> scoring() {
        return List.of(server.uri("/models/guarded/predict"), URI.create(cell + "/predict"),
                server.uri("/v2/models/guarded/infer"), URI.create(cell + "/v2/models/guarded/infer"));
    }

    @Test
    void everyScoringPathWantsAScoreToken() {
        String score = token("scorer", "score");
        String read = token("reader", "read");
        for (URI uri : scoring()) {
            assertThat(status(uri, null)).as("no token: %s", uri).isEqualTo(401);
            assertThat(status(uri, "not-a-token-at-all-000")).as("wrong token: %s", uri).isEqualTo(401);
            assertThat(status(uri, read)).as("read token: %s", uri).isEqualTo(403);
            assertThat(status(uri, score)).as("score token: %s", uri).isNotIn(401, 403);
            assertThat(status(uri, TestServer.TOKEN)).as("admin token: %s", uri).isNotIn(401, 403);
        }
        TestServer.Response answer = server.send(HttpRequest.newBuilder(URI.create(cell + "/predict"))
                .header("Authorization", "Bearer " + score).POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")));
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.object()).containsEntry("echo", Map.of("a", 1L));
    }

    @Test
    void healthStaysOpen() {
        for (URI uri : List.of(URI.create(cell + "/health"), server.uri("/models/guarded/health"),
                server.uri("/v2/health/live"))) {
            assertThat(server.send(HttpRequest.newBuilder(uri).GET()).status()).as("%s", uri).isEqualTo(200);
        }
    }

    @Test
    void aRevokedScoreTokenIsRefusedOnTheNextCall() {
        String score = token("scorer", "score");
        URI predict = URI.create(cell + "/predict");
        assertThat(status(predict, score)).isEqualTo(200);

        server.send(HttpRequest.newBuilder(server.uri("/api/tokens/scorer"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());

        assertThat(status(predict, score)).isEqualTo(401);
    }
}
