package deployer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import deployer.testing.Packages;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The admin page shows a batching model's mean batch size (DESIGN 1.10), the same figure {@code /metrics} counts,
 * in a real headless Chromium; a model without batching shows none.
 */
class AdminBatchSizeTest extends BrowserTest {

    @BeforeEach
    void start() throws Exception {
        openAdminPage(TestServer.start(data));
    }

    @Test
    void theModelPageShowsTheMeanBatchSizeThatMetricsCount() throws Exception {
        assertThat(server.deploy(Packages.zip(BatchingTest.batching("batched", 8, 5)))).containsEntry("state",
                "READY");
        assertThat(server.deploy(Packages.zip(TestModels.echo("plain")))).containsEntry("state", "READY");
        ExecutorService clients = Executors.newFixedThreadPool(16);
        List<CompletableFuture<Long>> sizes = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            String body = Integer.toString(i);
            sizes.add(CompletableFuture.supplyAsync(() -> {
                TestServer.Response r = server.predict("batched", body);
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                return (Long) r.object().get("batch");
            }, clients));
        }
        long largest = 0;
        for (CompletableFuture<Long> size : sizes) {
            largest = Math.max(largest, size.get());
        }
        clients.shutdown();
        assertThat(server.predict("plain", "{}").status()).isEqualTo(200);
        String metrics = server.get("/metrics").text();
        double count = metric(metrics, "deployer_batch_size_count");
        double sum = metric(metrics, "deployer_batch_size_sum");
        assertThat(sum).isEqualTo(160.0);

        browser.field("Token").sendKeys(TestServer.TOKEN);
        browser.click("Log in");
        browser.waitUntil(() -> browser.driver.findElement(By.id("overview-view")).isDisplayed());
        browser.follow("batched");
        String shown = browser.waitForText("model-stats", text -> text.contains("Mean batch size"));
        // The page shows the mean to one decimal (the figure /metrics counts, rounded: compared within half a
        // tenth, since a tie like 4.85 may round either way) and the exact number of batches.
        Matcher shownMean = Pattern.compile("Mean batch size\n([0-9]+\\.[0-9]) \\(([0-9]+) batches\\)").matcher(shown);
        assertThat(shownMean.find()).as(shown).isTrue();
        assertThat(Double.parseDouble(shownMean.group(1))).isCloseTo(sum / count, within(0.0501));
        assertThat(Long.parseLong(shownMean.group(2))).isEqualTo((long) count);
        assertThat(largest).as("some requests shared a call").isGreaterThan(1);
        assertThat(count).isLessThan(160.0);

        browser.script("location.hash = '#/models/plain'");
        browser.waitForText("model-title", "plain"::equals);
        browser.waitForText("model-stats", text -> text.contains("Requests/min") && !text.contains("Requests/min\n–"));
        assertThat(browser.text("model-stats")).doesNotContain("batch");
    }

    private static double metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{model=\"batched\",version=\"1\"} ([0-9.eE+-]+)$")
                .matcher(metrics);
        assertThat(m.find()).as(name + " in /metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }
}
