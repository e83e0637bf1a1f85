package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/** The admin page's traffic panel in a real browser: the split as a bar, sliders that set it, payloads. */
class TrafficAdminPageTest extends BrowserTest {

    @Test
    void theSplitShowsAsABarAndASliderSetsIt() throws Exception {
        TestServer started = TestServer.start(data);
        server = started;
        server.deploy(Packages.zip(TrafficFixture.same("bars")));
        TrafficFixture t = new TrafficFixture(server);
        t.candidate(TrafficFixture.same("bars"));
        assertThat(t.put("bars", "{\"split\": {\"2\": 30}}").status()).isEqualTo(200);
        assertThat(t.putPayloads("bars", "{\"sample\": 1, \"redact\": [\"ssn\"]}").status()).isEqualTo(200);
        assertThat(server.predict("bars", "{\"ssn\": \"123\", \"n\": 7}").status()).isEqualTo(200);
        // the record is handed on once the answer is written, which the client may read first
        Eventually.get(() -> {
            server.deployer().traffic().flushPayloads();
            return server.get("/api/models/bars/payloads").list().size();
        }, n -> n == 1);

        openAdminPage(started);
        browser.field("Token").sendKeys(TestServer.TOKEN);
        browser.click("Log in");
        browser.waitUntil(() -> browser.driver.findElement(By.id("overview-view")).isDisplayed());
        browser.follow("bars");

        assertThat(browser.waitForText("traffic-bar", text -> text.contains("v2 30%"))).contains("v1 70%");
        assertThat(browser.waitForText("payloads-body", text -> text.contains("\"n\":7")))
                .contains("\"ssn\":\"***\"").doesNotContain("123\"");

        browser.script("const s = document.querySelector('#traffic-sliders input[name=\"2\"]'); s.value = '50';"
                + " s.dispatchEvent(new Event('input'));"
                + " document.querySelector('#traffic-sliders input[name=\"1\"]').value = '50';");
        browser.click("Apply split");
        Eventually.get(() -> t.get("bars").get("split"), Map.of("1", 50L, "2", 50L)::equals);
        assertThat(browser.waitForText("traffic-bar", text -> text.contains("v2 50%"))).contains("v1 50%");
        assertThat(browser.unnamedControls()).isEmpty();
    }
}
