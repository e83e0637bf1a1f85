package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;
import deployer.core.Settings;

/**
 * The admin page's smaller promises, each seen failing in a real headless Chromium first: what is typed into "Try it"
 * is what is sent, a refused request leaves no stale reply, FAILED versions cannot be activated or tried, a narrow
 * screen never scrolls sideways, the login error names no server path, and the model's own log lines are shown.
 */
class AdminPageItemsTest extends BrowserTest {

    static final String SAMPLE = "{\"x\":[1,2,3]}";

    @Test
    void tryItTypedRightAfterOpeningAModelIsSentAsTypedNotMergedWithTheSample() throws Exception {
        openAdminPage(TestServer.start(data));
        server.deploy(sampled("typed"));
        logIn();
        // Hold the model's answer back until the person is already in the box, as on a slow network.
        browser.script("window.__release = null; const gate = new Promise((r) => { window.__release = r; });"
                + "const real = window.fetch; window.fetch = function (url, options) {"
                + "  const answer = real.apply(this, arguments);"
                + "  return String(url).startsWith('/api/models/typed') ? gate.then(() => answer) : answer; };");
        browser.script("location.hash = '#/models/typed'");
        WebElement input = browser.field("Request JSON");
        browser.await().untilAsserted(() -> input.click());
        browser.script("window.__release()");
        browser.waitForText("versions-body", text -> text.contains("v1"));

        input.sendKeys("{\"x\":[4,5,6]}");
        browser.click("Send");

        browser.await().untilAsserted(() -> assertThat(browser.text("try-meta")).startsWith("200"));
        assertThat(browser.text("try-output").replaceAll("\\s", "")).contains("\"echo\":{\"x\":[4,5,6]}");
        assertThat(input.getAttribute("value")).isEqualTo("{\"x\":[4,5,6]}");
    }

    @Test
    void theSampleIsFilledInWhenNobodyTouchedTheBox() throws Exception {
        openAdminPage(TestServer.start(data));
        server.deploy(sampled("untouched"));
        logIn();
        browser.follow("untouched");

        browser.await().untilAsserted(() -> assertThat(browser.field("Request JSON").getAttribute("value"))
                .isEqualTo(SAMPLE));
    }

    @Test
    void aRequestThatIsNotSentLeavesNoStaleReplyUnderIt() throws Exception {
        openAdminPage(TestServer.start(data));
        server.deploy(sampled("stale"));
        logIn();
        browser.follow("stale");
        WebElement input = browser.field("Request JSON");
        browser.await().untilAsserted(() -> assertThat(input.getAttribute("value")).isEqualTo(SAMPLE));
        browser.click("Send");
        browser.await().untilAsserted(() -> assertThat(browser.text("try-output")).contains("echo"));

        input.clear();
        input.sendKeys("{not json");
        browser.click("Send");

        browser.await().untilAsserted(() -> assertThat(browser.text("try-meta")).startsWith("Not sent"));
        assertThat(browser.text("try-output")).isEmpty();
    }

    @Test
    void activateAndSendAreDisabledOnFailedVersions() throws Exception {
        openAdminPage(TestServer.start(data));
        server.deploy(sampled("mixed"));
        Map<String, byte[]> broken = TestModels.scripted("mixed", "Echo", "", "return undefinedThing;");
        assertThat(server.deploy(Packages.zip(broken))).containsEntry("state", "FAILED");
        server.deploy(Packages.zip(TestModels.scripted("hopeless", "Broken", "", "return undefinedThing;")));
        logIn();

        browser.follow("mixed");
        browser.waitForText("versions-body", text -> text.contains("v2") && text.contains("FAILED"));
        assertThat(activateButton(2).isEnabled()).isFalse();
        assertThat(activateButton(1).isEnabled()).isFalse();
        assertThat(browser.driver.findElement(By.id("try-send")).isEnabled()).isTrue();

        browser.script("location.hash = '#/models/hopeless'");
        browser.waitForText("versions-body", text -> text.contains("v1") && text.contains("FAILED"));
        browser.await().untilAsserted(() -> assertThat(browser.driver.findElement(By.id("try-send")).isEnabled())
                .isFalse());
        assertThat(activateButton(1).isEnabled()).isFalse();
    }

    @Test
    void at420PixelsNoCardMakesThePageWiderThanTheScreen() throws Exception {
        openAdminPage(TestServer.start(data));
        logIn();
        browser.driver.manage().window().setSize(new Dimension(420, 900));
        Path file = Files.write(work.resolve("narrow.zip"),
                Packages.zip(TestModels.scripted("narrow", "Narrow", "", "return undefinedThing;")));

        browser.field("Package (.zip or .tar.gz)").sendKeys(file.toString());
        browser.click("Upload");
        browser.waitForText("deploys", text -> text.contains("FAILED") && text.contains("sha256"));

        assertThat(fitsTheWidth()).as("overview with a deploy card").isTrue();
        browser.follow("narrow");
        browser.waitForText("events-body", text -> text.contains("sha256"));
        assertThat(fitsTheWidth()).as("model page").isTrue();
        browser.screenshot("narrow-420.png");
    }

    @Test
    void theLoginErrorDoesNotShowWhereTheTokenFileIs() throws Exception {
        openAdminPage(TestServer.start(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any())));

        browser.field("Token").sendKeys("not-the-token-at-all");
        browser.click("Log in");

        String message = browser.waitForText("login-message", text -> !text.isBlank());
        assertThat(message).contains("wrong token").doesNotContain(data.toString()).doesNotContain("/");
    }

    @Test
    void theModelPageShowsTheModelsOwnLogLines() throws Exception {
        openAdminPage(TestServer.start(data));
        Map<String, byte[]> files = TestModels.scripted("chatty", "Chatty",
                "context.logger().log(System.Logger.Level.INFO, \"warming up the cache\");", "return input;");
        server.deploy(Packages.zip(files));
        logIn();

        browser.follow("chatty");

        assertThat(browser.waitForText("logs-body", text -> text.contains("warming up the cache")))
                .contains("v1").contains("INFO");
    }

    @Test
    void aFailedVersionIsDeletedFromTheModelPageAndTheServingOneCannotBe() throws Exception {
        openAdminPage(TestServer.start(data));
        server.deploy(sampled("tidy"));
        server.deploy(Packages.zip(TestModels.scripted("tidy", "Echo", "", "return undefinedThing;")));
        logIn();
        browser.follow("tidy");
        browser.waitForText("versions-body", text -> text.contains("v2") && text.contains("FAILED"));
        assertThat(deleteButton(1).isEnabled()).isFalse();

        browser.script("arguments[0].scrollIntoView({block: 'center'})", deleteButton(2));
        deleteButton(2).click();
        browser.driver.switchTo().alert().accept();

        browser.waitForText("versions-body", text -> !text.contains("v2"));
        assertThat(server.get("/api/models/tidy").object().get("versions").toString()).doesNotContain("version=2");
    }

    private WebElement deleteButton(int version) {
        return browser.driver.findElement(By.xpath("//tbody[@id='versions-body']//button[@aria-label='Delete version "
                + version + "']"));
    }

    // ---- steps -------------------------------------------------------------------------------------------------

    private static byte[] sampled(String name) {
        Map<String, byte[]> files = TestModels.echo(name);
        files.put("deploy.json", TestModels.bytes("{\"name\": \"" + name + "\", \"entry\": \"example.Echo\","
                + " \"health\": {\"sample\": " + SAMPLE + "}}"));
        return Packages.zip(files);
    }

    private void logIn() {
        browser.field("Token").sendKeys(TestServer.TOKEN);
        browser.click("Log in");
        browser.waitUntil(() -> browser.driver.findElement(By.id("overview-view")).isDisplayed());
    }

    private WebElement activateButton(int version) {
        return browser.driver.findElement(By.xpath("//tbody[@id='versions-body']//button[@aria-label='Activate version "
                + version + "']"));
    }

    private boolean fitsTheWidth() {
        return (Boolean) browser.script("return document.documentElement.scrollWidth <= window.innerWidth");
    }
}
