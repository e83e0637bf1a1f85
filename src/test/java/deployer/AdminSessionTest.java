package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The admin page's server side, over plain HTTP: the login cookie, what it may do, the cross-site protection of
 * state-changing calls made with it, logout, and the page and the API keys it reads.
 */
class AdminSessionTest extends ServerTest {

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void loginSetsAnHttpOnlySameSiteStrictCookieAndTheTokenNeverInAUrl() throws Exception {
        HttpResponse<String> login = login(TestServer.TOKEN);

        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.body()).contains("\"logged_in\":true");
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).startsWith("deployer_session=").contains("; HttpOnly").contains("; SameSite=Strict")
                .contains("; Path=/").contains("; Max-Age=").doesNotContain(TestServer.TOKEN);
        assertThat(login.headers().firstValue("Cache-Control")).contains("no-store");
        String session = sessionOf(login);
        assertThat(session).hasSizeGreaterThanOrEqualTo(40);

        assertThat(send(get("/api/session").header("Cookie", "deployer_session=" + session)).body())
                .isEqualTo("{\"logged_in\":true}");
        assertThat(send(get("/api/session")).body()).isEqualTo("{\"logged_in\":false}");
        HttpResponse<String> models = send(get("/api/models").header("Cookie", "deployer_session=" + session));
        assertThat(models.statusCode()).isEqualTo(200);
        assertThat(models.body()).isEqualTo("[]");
    }

    @Test
    void aFormLoginGoesBackToThePage() throws Exception {
        HttpResponse<String> login = send(HttpRequest.newBuilder(server.uri("/api/session"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", origin())
                .POST(HttpRequest.BodyPublishers.ofString("token=" + TestServer.TOKEN)));

        assertThat(login.statusCode()).isEqualTo(303);
        assertThat(login.headers().firstValue("Location")).contains("/");
        assertThat(sessionOf(login)).isNotEmpty();
    }

    @Test
    void aWrongTokenIsRefusedWithAMessageAndNoCookie() throws Exception {
        HttpResponse<String> login = login("wrong-token-0123456789");

        assertThat(login.statusCode()).isEqualTo(401);
        assertThat(error(login)).startsWith("wrong token");
        assertThat(login.headers().firstValue("Set-Cookie")).isEmpty();

        HttpResponse<String> empty = send(HttpRequest.newBuilder(server.uri("/api/session"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(error(empty)).contains("token");
    }

    @Test
    void aMadeUpOrEndedSessionIs401() throws Exception {
        HttpResponse<String> forged = send(get("/api/models").header("Cookie", "deployer_session=made-up"));

        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(error(forged)).contains("session has ended");
    }

    @Test
    void logoutEndsTheSessionAndClearsTheCookie() throws Exception {
        String session = sessionOf(login(TestServer.TOKEN));

        HttpResponse<String> logout = send(HttpRequest.newBuilder(server.uri("/api/session"))
                .header("Cookie", "deployer_session=" + session).header("Origin", origin()).DELETE());

        assertThat(logout.statusCode()).isEqualTo(204);
        assertThat(logout.headers().firstValue("Set-Cookie").orElseThrow()).startsWith("deployer_session=;")
                .contains("Max-Age=0");
        assertThat(send(get("/api/models").header("Cookie", "deployer_session=" + session)).statusCode())
                .isEqualTo(401);
        assertThat(send(get("/api/session").header("Cookie", "deployer_session=" + session)).body())
                .isEqualTo("{\"logged_in\":false}");
    }

    @Test
    void aCookiePostWithoutOriginOrFromAnotherSiteIs403() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("guarded")));
        String session = sessionOf(login(TestServer.TOKEN));

        HttpResponse<String> bare = send(stop("guarded").header("Cookie", "deployer_session=" + session));
        HttpResponse<String> foreign = send(stop("guarded").header("Cookie", "deployer_session=" + session)
                .header("Origin", "https://evil.example"));
        HttpResponse<String> crossSite = send(stop("guarded").header("Cookie", "deployer_session=" + session)
                .header("Sec-Fetch-Site", "cross-site").header("Origin", origin()));
        HttpResponse<String> otherPort = send(stop("guarded").header("Cookie", "deployer_session=" + session)
                .header("Origin", "http://127.0.0.1:1"));
        HttpResponse<String> nullOrigin = send(stop("guarded").header("Cookie", "deployer_session=" + session)
                .header("Origin", "null"));
        // A model's own port is the same site (same host, other port): SameSite=Strict lets the cookie through,
        // the origin check does not.
        HttpResponse<String> sameSite = send(stop("guarded").header("Cookie", "deployer_session=" + session)
                .header("Sec-Fetch-Site", "same-site").header("Origin", "http://127.0.0.1:9100"));

        for (HttpResponse<String> refused : List.of(bare, foreign, crossSite, otherPort, nullOrigin, sameSite)) {
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
            assertThat(error(refused)).contains("own page");
        }
        HttpResponse<String> delete = send(HttpRequest.newBuilder(server.uri("/api/models/guarded"))
                .header("Cookie", "deployer_session=" + session).header("Origin", "https://evil.example").DELETE());
        assertThat(delete.statusCode()).isEqualTo(403);
        assertThat(server.get("/api/models/guarded").object().get("active")).asInstanceOf(
                org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("state", "READY");
    }

    @Test
    void aCookiePostFromTheOwnOriginGoesThrough() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("welcome")));
        String session = sessionOf(login(TestServer.TOKEN));

        HttpResponse<String> byOrigin = send(stop("welcome").header("Cookie", "deployer_session=" + session)
                .header("Origin", origin()));
        assertThat(byOrigin.statusCode()).as(byOrigin.body()).isEqualTo(200);
        assertThat(byOrigin.body()).contains("\"state\":\"STOPPED\"");

        HttpResponse<String> byFetchSite = send(HttpRequest.newBuilder(server.uri("/api/models/welcome/start"))
                .header("Cookie", "deployer_session=" + session).header("Sec-Fetch-Site", "same-origin")
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(byFetchSite.statusCode()).as(byFetchSite.body()).isEqualTo(200);
        assertThat(byFetchSite.body()).contains("\"state\":\"READY\"");
    }

    @Test
    void theBearerTokenIsUnaffectedByOriginAndCookies() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("scripted")));

        HttpResponse<String> stopped = send(stop("scripted").header("Authorization", "Bearer " + TestServer.TOKEN)
                .header("Origin", "https://evil.example").header("Cookie", "deployer_session=made-up"));
        assertThat(stopped.statusCode()).as(stopped.body()).isEqualTo(200);

        HttpResponse<String> wrongBearer = send(get("/api/models").header("Authorization", "Bearer nope")
                .header("Cookie", "deployer_session=" + sessionOf(login(TestServer.TOKEN))));
        assertThat(wrongBearer.statusCode()).isEqualTo(401);
        assertThat(error(wrongBearer)).startsWith("wrong token");

        HttpResponse<String> none = send(get("/api/models"));
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(error(none)).contains("Authorization: Bearer <token>");
    }

    @Test
    void theRootServesTheAdminPageAndUnknownPathsStayJson404() throws Exception {
        HttpResponse<String> page = send(HttpRequest.newBuilder(server.uri("/")).GET());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                .contains("default-src 'none'").contains("script-src 'self'").contains("frame-ancestors 'none'");
        assertThat(page.body()).contains("<label for=\"token\">Token</label>").contains("/admin/app.js")
                .doesNotContain("http://").doesNotContain("https://");

        for (String asset : List.of("/admin/app.js", "/admin/app.css", "/admin/icon.svg")) {
            HttpResponse<String> file = send(HttpRequest.newBuilder(server.uri(asset)).GET());
            assertThat(file.statusCode()).as(asset).isEqualTo(200);
            String etag = file.headers().firstValue("ETag").orElseThrow();
            HttpResponse<String> again = send(HttpRequest.newBuilder(server.uri(asset))
                    .header("If-None-Match", etag).GET());
            assertThat(again.statusCode()).as(asset).isEqualTo(304);
        }
        // Nothing from outside: the one absolute URL in the script is SVG's namespace name, which is never fetched.
        assertThat(send(HttpRequest.newBuilder(server.uri("/admin/app.js")).GET()).body()
                .replace("http://www.w3.org/2000/svg", "")).doesNotContain("http://").doesNotContain("https://");

        HttpResponse<String> unknown = send(HttpRequest.newBuilder(server.uri("/nothing/here")).GET());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
        assertThat(error(unknown)).contains("/nothing/here");
        assertThat(server.get("/api/nothing").status()).isEqualTo(404);
        assertThat(send(HttpRequest.newBuilder(server.uri("/")).POST(HttpRequest.BodyPublishers.noBody()))
                .statusCode()).isEqualTo(405);
    }

    @Test
    void theModelViewCarriesEachVersionsManifestAndTheListItsHealth() {
        Map<String, byte[]> files = TestModels.echo("described");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"described\", \"entry\": \"example.Echo\","
                + " \"description\": \"says it back\", \"health\": {\"sample\": {\"text\": \"hi\"}}}"));
        server.deploy(Packages.zip(files));

        Map<String, Object> model = server.get("/api/models/described").object();
        Map<String, Object> version = TestServer.asMap(((List<?>) model.get("versions")).get(0));
        assertThat(TestServer.asMap(version.get("manifest"))).containsEntry("description", "says it back")
                .containsEntry("entry", "example.Echo")
                .containsEntry("health", Map.of("sample", Map.of("text", "hi")));
        assertThat(TestServer.asMap(model.get("active"))).containsKey("manifest").containsKey("sha256");
        assertThat(TestServer.asMap(server.get("/api/models").list().get(0))).containsEntry("healthy", true)
                .containsEntry("state", "READY").containsKey("ready_at");
        assertThat(server.get("/api/deployments/" + version.get("deploy_id")).object()).doesNotContainKey("manifest");
    }

    @Test
    void aModelsReplyThroughTheMainPortIsSandboxedFromTheAdminPage() throws Exception {
        server.deploy(Packages.zip(TestModels.echo("plain")));

        HttpResponse<String> reply = send(HttpRequest.newBuilder(server.uri("/models/plain/predict"))
                .POST(HttpRequest.BodyPublishers.ofString("1")));

        assertThat(reply.statusCode()).isEqualTo(200);
        assertThat(reply.headers().firstValue("Content-Security-Policy")).contains("sandbox");
    }

    private HttpResponse<String> login(String token) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(server.uri("/api/session")).header("Content-Type", "application/json")
                .header("Origin", origin())
                .POST(HttpRequest.BodyPublishers.ofString("{\"token\": \"" + token + "\"}")));
    }

    private HttpRequest.Builder get(String path) {
        return HttpRequest.newBuilder(server.uri(path)).GET();
    }

    private HttpRequest.Builder stop(String model) {
        return HttpRequest.newBuilder(server.uri("/api/models/" + model + "/stop"))
                .POST(HttpRequest.BodyPublishers.noBody());
    }

    private String origin() {
        URI root = server.uri("/");
        return root.getScheme() + "://" + root.getHost() + ":" + root.getPort();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sessionOf(HttpResponse<String> response) {
        String cookie = response.headers().firstValue("Set-Cookie").orElseThrow();
        return cookie.substring("deployer_session=".length(), cookie.indexOf(';'));
    }

    private static String error(HttpResponse<String> response) {
        return (String) new TestServer.Response(response.statusCode(), response.body()).object().get("error");
    }
}
