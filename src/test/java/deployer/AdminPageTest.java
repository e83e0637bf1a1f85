package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

/**
 * The admin page in a real headless Chromium against a real server: log in, upload, watch it go READY, try it,
 * roll back, stop and start, undeploy, log out; controls found by their labels and accessible names, as a person
 * (or a screen reader) finds them. Skipped only where Debian's chromium-driver is not installed.
 */
class AdminPageTest extends BrowserTest {

    @BeforeEach
    void start() throws Exception {
        openAdminPage(TestServer.start(data));
    }

    @Test
    void aWrongTokenIsRefusedWithAMessage() throws Exception {
        browser.field("Token").sendKeys("not-the-token-at-all");
        browser.click("Log in");

        String message = browser.waitForText("login-message", text -> !text.isBlank());
        assertThat(message).contains("Not logged in").contains("wrong token");
        assertThat(browser.driver.findElement(By.id("overview-view")).isDisplayed()).isFalse();
        assertThat(browser.driver.findElement(By.id("nav")).isDisplayed()).isFalse();
        assertThat(browser.driver.manage().getCookieNamed("deployer_session")).isNull();
        assertThat(browser.driver.getCurrentUrl()).doesNotContain("not-the-token");
        browser.screenshot("login-refused.png");
    }

    @Test
    void logInDeployTryItRollBackStopStartAndLogOut() throws Exception {
        logIn();
        browser.waitUntil(() -> browser.driver.findElement(By.id("no-models")).isDisplayed());
        assertThat(browser.unnamedControls()).isEmpty();

        upload(greeter(1), "greeter version 1");
        upload(greeter(2), "greeter version 2");
        WebElement row = modelRow("greeter");
        browser.await().untilAsserted(() -> assertThat(modelRow("greeter").getText()).contains("v2").contains("READY")
                .contains("healthy"));
        assertThat(row.getText()).contains(Integer.toString(port("greeter")));
        assertThat(browser.driver.findElement(By.id("upload-progress")).getAttribute("value")).isEqualTo("100");
        for (int i = 0; i < 5; i++) {
            assertThat(server.predict("greeter", "{\"text\": \"warm-up " + i + "\"}").status()).isEqualTo(200);
        }
        if (server.get("/api/stats").status() == 200) {
            // Where the server keeps statistics, the overview shows them; elsewhere "–" (checked below).
            browser.await().untilAsserted(() -> assertThat(modelRow("greeter")
                    .findElement(By.cssSelector("td[data-label='Req/min']")).getText()).isNotEqualTo("–"));
            assertThat(modelRow("greeter").findElement(By.cssSelector("td[data-label='Latency'] svg"))
                    .getAccessibleName()).startsWith("Latency of greeter over the last");
        }
        Path overview = browser.screenshot("overview.png");

        browser.follow("greeter");
        browser.waitForText("versions-body", text -> text.contains("v1") && text.contains("v2"));
        assertThat(browser.text("model-title")).isEqualTo("greeter");
        assertThat(browser.waitForText("manifest", text -> text.contains("\"description\"")))
                .contains("\"name\": \"greeter\"").contains("says hello, version 2");
        assertThat(browser.waitForText("events-body", text -> text.contains("ready"))).contains("received");
        assertThat(browser.unnamedControls()).isEmpty();

        // Try it: the box starts with the manifest's health sample; the reply and its latency are shown.
        assertThat(browser.field("Request JSON").getAttribute("value")).isEqualTo("{\"text\":\"ping\"}");
        tryIt("{\"text\": \"hello\"}");
        assertThat(browser.text("try-output")).contains("\"version\": 2").contains("hello");
        assertThat(browser.text("try-meta")).matches("200 .*· [0-9.]+ (ms|s)");

        // Roll back to version 1 with one click.
        browser.click("Activate version 1");
        browser.await().untilAsserted(() -> assertThat(versionRow(1).getText()).contains("active").contains("READY"));
        browser.waitForText("manifest", text -> text.contains("says hello, version 1"));
        tryIt("{\"text\": \"again\"}");
        assertThat(browser.text("try-output")).contains("\"version\": 1");
        assertThat(activeState()).isEqualTo("READY");
        Path modelPage = browser.screenshot("model.png");

        browser.click("Stop");
        browser.await().untilAsserted(() -> assertThat(browser.text("model-state")).isEqualTo("STOPPED"));
        assertThat(activeState()).isEqualTo("STOPPED");
        assertThat(server.predict("greeter", "{}").status()).isEqualTo(503);

        browser.click("Start");
        browser.await().untilAsserted(() -> assertThat(browser.text("model-state")).isEqualTo("READY"));
        assertThat(activeState()).isEqualTo("READY");
        assertThat(server.predict("greeter", "{}").object()).containsEntry("version", 1L);

        Cookie session = browser.driver.manage().getCookieNamed("deployer_session");
        assertThat(session.isHttpOnly()).isTrue();
        assertThat(session.getSameSite()).isEqualTo("Strict");
        browser.click("Log out");
        assertThat(browser.waitForText("login-message", text -> !text.isBlank())).isEqualTo("Logged out.");
        assertThat(browser.field("Token").isDisplayed()).isTrue();
        assertThat(withCookie(session.getValue()).statusCode()).isEqualTo(401);

        assertThat(Files.size(overview)).isPositive();
        assertThat(Files.size(modelPage)).isPositive();
    }

    @Test
    void aFailedDeployShowsItsReasonLive() throws Exception {
        logIn();
        Map<String, byte[]> broken = TestModels.scripted("broken", "Broken", "", "return undefinedThing;");

        upload(Packages.zip(broken), "broken version 1", "FAILED");

        assertThat(browser.waitForText("deploys", text -> text.contains("Broken.java"))).contains("FAILED")
                .contains("cannot find symbol");
        browser.await().untilAsserted(() -> assertThat(modelRow("broken").getText()).contains("FAILED"));
    }

    @Test
    void undeployAsksFirstThenRemovesTheModel() {
        server.deploy(Packages.zip(TestModels.echo("doomed")));
        logIn();
        browser.follow("doomed");
        browser.waitForText("model-state", text -> text.equals("READY"));

        browser.click("Undeploy…");
        browser.click("Cancel");
        assertThat(browser.driver.findElement(By.id("undeploy-dialog")).isDisplayed()).isFalse();
        assertThat(server.get("/api/models/doomed").status()).isEqualTo(200);

        browser.click("Undeploy…");
        assertThat(browser.text("undeploy-title")).isEqualTo("Undeploy doomed?");
        browser.click("Undeploy doomed");

        browser.waitUntil(() -> browser.driver.findElement(By.id("overview-view")).isDisplayed());
        browser.waitUntil(() -> browser.driver.findElement(By.id("no-models")).isDisplayed());
        assertThat(server.get("/api/models/doomed").status()).isEqualTo(404);
    }

    @Test
    void atPhoneWidthThePageFitsWithoutSideways() throws Exception {
        server.deploy(greeter(1));
        logIn();
        browser.driver.manage().window().setSize(new Dimension(390, 844));
        browser.await().untilAsserted(() -> assertThat(modelRow("greeter").getText()).contains("READY"));

        assertThat(fitsTheWidth()).isTrue();
        browser.screenshot("overview-phone.png");
        browser.follow("greeter");
        browser.waitForText("versions-body", text -> text.contains("v1"));
        assertThat(fitsTheWidth()).isTrue();
        browser.screenshot("model-phone.png");
    }

    // ---- steps -------------------------------------------------------------------------------------------------

    private void logIn() {
        browser.field("Token").sendKeys(TestServer.TOKEN);
        browser.click("Log in");
        browser.waitUntil(() -> browser.driver.findElement(By.id("overview-view")).isDisplayed());
    }

    private void upload(byte[] archive, String what) throws Exception {
        upload(archive, what, "READY");
    }

    /** Chooses the archive, uploads it and waits until its line in the deploys list shows {@code outcome}. */
    private void upload(byte[] archive, String what, String outcome) throws Exception {
        Path file = Files.write(work.resolve(what.replace(' ', '-') + ".zip"), archive);
        browser.field("Package (.zip or .tar.gz)").sendKeys(file.toString());
        browser.click("Upload");
        browser.await().untilAsserted(() -> assertThat(deployLine(what).getText()).contains(outcome));
    }

    private void tryIt(String json) {
        WebElement input = browser.field("Request JSON");
        input.clear();
        input.sendKeys(json);
        String before = browser.text("try-output");
        browser.click("Send");
        browser.await().untilAsserted(() -> {
            assertThat(browser.text("try-meta")).startsWith("200");
            assertThat(browser.text("try-output")).isNotEqualTo(before);
        });
    }

    private WebElement deployLine(String what) {
        return browser.driver.findElement(By.xpath("//ol[@id='deploys']/li[.//a[normalize-space()='" + what + "']]"));
    }

    private WebElement modelRow(String name) {
        return browser.driver.findElement(By.xpath("//tbody[@id='models-body']/tr[th//a[normalize-space()='" + name
                + "']]"));
    }

    private WebElement versionRow(int version) {
        return browser.driver.findElement(By.xpath("//tbody[@id='versions-body']/tr[th[normalize-space()='v" + version
                + "']]"));
    }

    private boolean fitsTheWidth() {
        return (Boolean) browser.script("return document.documentElement.scrollWidth <= window.innerWidth");
    }

    private String activeState() {
        return (String) TestServer.asMap(server.get("/api/models/greeter").object().get("active")).get("state");
    }

    private int port(String model) {
        return ((Number) TestServer.asMap(server.get("/api/models/" + model).object().get("active")).get("port"))
                .intValue();
    }

    private HttpResponse<String> withCookie(String session) throws Exception {
        URI uri = server.uri("/api/models");
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri)
                .header("Cookie", "deployer_session=" + session).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A model that says hello with its version, its manifest carrying a description and a health sample. */
    private static byte[] greeter(int version) {
        Map<String, byte[]> files = TestModels.echo("greeter");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"greeter\", \"entry\": \"example.Echo\","
                + " \"description\": \"says hello, version " + version + "\","
                + " \"health\": {\"sample\": {\"text\": \"ping\"}}}"));
        return Packages.zip(files);
    }
}
