package deployer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import deployer.testing.Packages;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/**
 * A page of another site posts a {@code text/plain} form to {@code /v2/models/{m}/infer} of a model that echoes
 * what it is sent as HTML, while the admin is logged in, in a real headless Chromium: the answer is JSON (and
 * sandboxed), so the script in it never runs on the admin page's origin, and the admin API is untouched.
 */
class CrossSiteInferTest {

    @TempDir
    Path profile;

    @TempDir
    Path data;

    TestServer server;
    HttpServer attacker;
    Browser browser;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Browser.available(), "no " + Browser.CHROMEDRIVER + " here (apt-get install chromium-driver)");
        server = TestServer.start(data);
        browser = Browser.start(profile);
    }

    @AfterEach
    void stop() {
        if (attacker != null) {
            attacker.stop(0);
        }
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void crossSiteTextPlainFormToInferRunsNoScriptAndLeavesTheApiUntouched() throws Exception {
        Map<String, byte[]> files = TestModels.scripted("echoer", "Echoer", "", "return input;", """
                @Override
                public Reply reply(Object prediction) {
                    Object data = ((Map<?, ?>) ((Map<?, ?>) prediction).get("x")).get("data");
                    return Reply.bytes("text/html", String.valueOf(((List<?>) data).get(0)).getBytes());
                }
                """);
        assertThat(server.deploy(Packages.zip(files))).containsEntry("state", "READY");

        // Logged in on the admin page's origin (127.0.0.1), as the admin would be.
        browser.open(server.uri("/"));
        browser.field("Token").sendKeys(TestServer.TOKEN);
        browser.click("Log in");
        browser.waitUntil(() -> browser.driver.findElement(By.id("overview-view")).isDisplayed());

        // The other site (localhost is not 127.0.0.1's site): a form whose text/plain body is an inference request
        // carrying a script that would stop the model with the admin's cookie, were it run on the admin's origin.
        String script = "<script>fetch('/api/models/echoer/stop', {method: 'POST'}).then(() => document.title ="
                + " 'stopped')</script>";
        String name = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\""
                + script.replace("\"", "\\\"") + "\"]}], \"pad\": \"";
        String page = "<!doctype html><form id=f method=POST enctype=text/plain action='"
                + server.uri("/v2/models/echoer/infer") + "'><input name='" + name.replace("'", "&#39;")
                + "' value='\"}'></form><script>document.getElementById('f').submit()</script>";
        attacker = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        attacker.createContext("/", exchange -> {
            byte[] bytes = page.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        attacker.start();
        browser.open(java.net.URI.create("http://localhost:" + attacker.getAddress().getPort() + "/"));

        // The form went and its answer is on screen: JSON naming the model, not the echoed page.
        browser.waitUntil(() -> browser.driver.getCurrentUrl().contains("/v2/models/echoer/infer")
                && browser.driver.findElement(By.tagName("body")).getText().contains("not JSON"));
        assertThat(browser.driver.findElement(By.tagName("body")).getText()).contains("echoer")
                .doesNotContain("<script>");
        assertThat(browser.driver.getTitle()).isNotEqualTo("stopped");
        assertThat(server.get("/api/models/echoer").object().get("active")).asString().contains("READY");
        assertThat(HotSwapTest.kinds(server, "echoer")).doesNotContain("stopped");
    }
}
