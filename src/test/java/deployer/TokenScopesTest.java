package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import deployer.store.Database;
import deployer.store.Tokens;
import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Named tokens and their scopes against every API call (a table: 403 naming the scope where the scope does not
 * cover the call), made and revoked through {@code /api/tokens}, effective at the next call, kept as digests only,
 * and named in the audit log.
 */
class TokenScopesTest extends ServerTest {

    /** One API call and the scope it needs. */
    private record Call(String method, String path, String needs) {
    }

    private static final List<Call> CALLS = List.of(
            new Call("GET", "/api/models", "read"),
            new Call("GET", "/api/models/echo", "read"),
            new Call("GET", "/api/deployments/1", "read"),
            new Call("GET", "/api/events?limit=5", "read"),
            new Call("GET", "/api/stats", "read"),
            new Call("GET", "/api/deployments/1/package", "deploy"),
            new Call("GET", "/api/models/echo/payloads", "deploy"),
            new Call("POST", "/api/deployments", "deploy"),
            new Call("POST", "/api/models/echo/restart?wait=1", "deploy"),
            new Call("POST", "/api/models/echo/versions/1/activate?wait=1", "deploy"),
            new Call("POST", "/api/deployments/1/cancel", "deploy"),
            new Call("PUT", "/api/models/echo/traffic", "deploy"),
            new Call("DELETE", "/api/models/nosuch", "deploy"),
            new Call("GET", "/api/tokens", "admin"),
            new Call("POST", "/api/tokens", "admin"),
            new Call("DELETE", "/api/tokens/nosuch", "admin"));

    private TestServer.Response call(String method, String path, String token, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return server.send(request);
    }

    private String create(String name, String scope) {
        TestServer.Response r = call("POST", "/api/tokens", TestServer.TOKEN,
                "{\"name\": \"" + name + "\", \"scope\": \"" + scope + "\"}");
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        assertThat(r.object()).containsEntry("name", name).containsEntry("scope", scope);
        return (String) r.object().get("token");
    }

    @Test
    void eachScopeAgainstEachCall() {
        server.deploy(Packages.zip(TestModels.echo("echo")));
        Map<String, String> tokens = new LinkedHashMap<>();
        for (String scope : List.of("admin", "deploy", "read", "score")) {
            tokens.put(scope, create("t-" + scope, scope));
        }
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> token : tokens.entrySet()) {
            Tokens.Scope scope = Tokens.Scope.parse(token.getKey());
            for (Call c : CALLS) {
                boolean allowed = scope.covers(Tokens.Scope.parse(c.needs()));
                TestServer.Response r = call(c.method(), c.path(), token.getValue(),
                        c.method().equals("POST") && c.path().equals("/api/tokens") ? "{}" : null);
                String seen = token.getKey() + " " + c.method() + " " + c.path() + " -> " + r.status() + " "
                        + r.text();
                if (allowed ? r.status() == 403 || r.status() == 401 : r.status() != 403) {
                    wrong.add(seen);
                } else if (!allowed && !r.error().contains("needs a token with scope " + c.needs())) {
                    wrong.add(seen + " (the 403 must name the scope needed)");
                }
            }
        }
        assertThat(wrong).isEmpty();
        // The echo model was restarted and activated by the deploy and admin tokens, and still serves.
        assertThat(server.predict("echo", "{\"x\": 1}").status()).isEqualTo(200);
    }

    @Test
    void aRevokedTokenIsRefusedOnTheNextCall() {
        String token = create("ci", "read");
        assertThat(call("GET", "/api/models", token, null).status()).isEqualTo(200);

        assertThat(call("DELETE", "/api/tokens/ci", TestServer.TOKEN, null).status()).isEqualTo(204);

        TestServer.Response after = call("GET", "/api/models", token, null);
        assertThat(after.status()).isEqualTo(401);
        assertThat(call("DELETE", "/api/tokens/ci", TestServer.TOKEN, null).status()).isEqualTo(404);
    }

    @Test
    void theListNeverShowsATokenAndANameIsTakenOnce() {
        String token = create("ci", "deploy");
        TestServer.Response list = call("GET", "/api/tokens", TestServer.TOKEN, null);
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.text()).doesNotContain(token).doesNotContain(Tokens.hash(token)).contains("\"ci\"");
        assertThat(list.list()).extracting(t -> TestServer.asMap(t).get("name")).containsExactly("admin", "ci");

        TestServer.Response again = call("POST", "/api/tokens", TestServer.TOKEN,
                "{\"name\": \"ci\", \"scope\": \"read\"}");
        assertThat(again.status()).isEqualTo(409);
        TestServer.Response badScope = call("POST", "/api/tokens", TestServer.TOKEN,
                "{\"name\": \"x\", \"scope\": \"root\"}");
        assertThat(badScope.status()).isEqualTo(400);
        assertThat(badScope.error()).contains("admin, deploy, read, score");
        TestServer.Response badName = call("POST", "/api/tokens", TestServer.TOKEN,
                "{\"name\": \"Bad Name\", \"scope\": \"read\"}");
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.error()).contains("token name");
    }

    @Test
    void theAuditLogNamesTheTokenBehindAChangeNeverItsValue() {
        server.deploy(Packages.zip(TestModels.echo("audited")));
        String token = create("pipeline", "deploy");

        assertThat(call("POST", "/api/models/audited/stop", token, null).status()).isEqualTo(200);

        TestServer.Response events = server.get("/api/events?limit=50");
        assertThat(events.text()).doesNotContain(token).doesNotContain(TestServer.TOKEN);
        assertThat(events.list()).extracting(e -> String.valueOf(TestServer.asMap(e).get("message")))
                .anySatisfy(m -> assertThat(m).contains("POST /api/models/audited/stop answered 200")
                        .contains("by token 'pipeline' (scope deploy)"))
                .anySatisfy(m -> assertThat(m).contains("POST /api/tokens answered 201").contains("token 'admin'"));
    }

    @Test
    void theAdminTokenRotatesWithAGracePeriodAndTheOldOneEndsWithIt() throws Exception {
        TestServer.Response rotated = call("POST", "/api/tokens/admin/rotate", TestServer.TOKEN,
                "{\"grace\": \"10m\"}");
        assertThat(rotated.status()).as(rotated.text()).isEqualTo(200);
        String second = (String) rotated.object().get("token");
        assertThat(call("GET", "/api/models", TestServer.TOKEN, null).status()).as("within its grace").isEqualTo(200);
        assertThat(call("GET", "/api/models", second, null).status()).isEqualTo(200);

        TestServer.Response again = call("POST", "/api/tokens/admin/rotate", second, "{\"grace\": \"0\"}");
        assertThat(again.status()).isEqualTo(200);
        String third = (String) again.object().get("token");
        assertThat(call("GET", "/api/models", second, null).status()).as("no grace").isEqualTo(401);
        assertThat(call("GET", "/api/models", third, null).status()).isEqualTo(200);

        List<Object> listed = call("GET", "/api/tokens", third, null).list();
        assertThat(listed).extracting(t -> TestServer.asMap(t).get("name")).hasSize(3)
                .allSatisfy(n -> assertThat((String) n).startsWith("admin"));
        String retired = listed.stream().map(t -> (String) TestServer.asMap(t).get("name"))
                .filter(n -> n.startsWith("admin@")).findFirst().orElseThrow();
        TestServer.Response kept = call("DELETE", "/api/tokens/" + retired, third, null);
        assertThat(kept.status()).isEqualTo(400);
        assertThat(kept.error()).contains("rotated admin token");
        assertThat(call("DELETE", "/api/tokens/admin", third, null).status()).isEqualTo(400);

        // The admin page's login follows the rotation too.
        TestServer.Response login = call("POST", "/api/session", second, "{\"token\": \"" + second + "\"}");
        assertThat(login.status()).isEqualTo(401);
        assertThat(call("POST", "/api/session", null, "{\"token\": \"" + third + "\"}").status()).isEqualTo(200);
    }

    @Test
    void aRestartWithTheRotatedTokenDoesNotBringItBack() throws Exception {
        TestServer.Response rotated = call("POST", "/api/tokens/admin/rotate", TestServer.TOKEN,
                "{\"grace\": \"0\"}");
        String next = (String) rotated.object().get("token");

        server.restart();

        assertThat(call("GET", "/api/models", TestServer.TOKEN, null).status()).isEqualTo(401);
        assertThat(call("GET", "/api/models", next, null).status()).isEqualTo(200);
    }

    @Test
    void theTokenTableHoldsDigestsOnly() throws Exception {
        List<String> made = List.of(create("a", "read"), create("b", "score"), create("c", "admin"));
        server.close();
        List<String> cells = new ArrayList<>();
        HikariDataSource db = Database.open(data.resolve("db"));
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM tokens")) {
            while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    cells.add(String.valueOf(rs.getObject(i)));
                }
            }
        } finally {
            Database.shutdown(db);
        }
        server = TestServer.start(data);
        assertThat(String.join(" ", cells)).doesNotContain(made.get(0)).doesNotContain(made.get(1))
                .doesNotContain(made.get(2)).doesNotContain(TestServer.TOKEN)
                .contains(Tokens.hash(made.get(0)), Tokens.hash(made.get(2)), Tokens.hash(TestServer.TOKEN));
    }
}
