package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) for the admin page's tests, with
 * a fresh profile, and helpers that find controls the way a person does: by their label or accessible name.
 */
final class Browser implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Dimension DESKTOP = new Dimension(1366, 900);
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    final ChromeDriver driver;
    private final ChromeDriverService service;

    private Browser(ChromeDriverService service, ChromeDriver driver) {
        this.service = service;
        this.driver = driver;
    }

    /** Whether the driver is installed; CI installs it (.ci/run), so only then are the browser tests skipped. */
    static boolean available() {
        return Files.isExecutable(CHROMEDRIVER);
    }

    static Browser start(Path profile) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile.toAbsolutePath(),
                "--window-size=" + DESKTOP.getWidth() + "," + DESKTOP.getHeight());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        return new Browser(service, new ChromeDriver(service, options));
    }

    void open(URI uri) {
        driver.get(uri.toString());
    }

    static ConditionFactory await() {
        return Awaitility.await().atMost(Eventually.DEADLINE).pollInterval(Duration.ofMillis(100)).ignoreExceptions();
    }

    /** The form control labelled exactly {@code label} (a {@code <label for>} naming it). */
    WebElement field(String label) {
        return await().until(() -> {
            for (WebElement l : driver.findElements(By.tagName("label"))) {
                if (l.getText().trim().equals(label) && l.getAttribute("for") != null) {
                    return driver.findElement(By.id(l.getAttribute("for")));
                }
            }
            return null;
        }, e -> e != null);
    }

    /** The shown, enabled button whose accessible name is {@code name}, waited for. */
    WebElement button(String name) {
        return await().until(() -> {
            for (WebElement b : driver.findElements(By.tagName("button"))) {
                if (b.isDisplayed() && b.isEnabled() && b.getAccessibleName().trim().equals(name)) {
                    return b;
                }
            }
            return null;
        }, e -> e != null);
    }

    /**
     * Clicks the button named {@code name}, finding it again if the page redrew it in between; scrolled to the middle
     * first, as a person would, so the sticky bar never covers it.
     */
    void click(String name) {
        await().untilAsserted(() -> {
            WebElement button = button(name);
            script("arguments[0].scrollIntoView({block: 'center'})", button);
            button.click();
        });
    }

    /** Clicks the link whose text is {@code text}. */
    void follow(String text) {
        await().untilAsserted(() -> driver.findElement(By.linkText(text)).click());
    }

    String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    /** Waits until the text of the element {@code id} satisfies {@code done}, and returns it. */
    String waitForText(String id, java.util.function.Predicate<String> done) {
        return await().until(() -> text(id), done);
    }

    void waitUntil(Supplier<Boolean> done) {
        await().until(done::get);
    }

    Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    /** Every shown control (button, field, select, link) without an accessible name: should be none. */
    List<String> unnamedControls() {
        List<String> unnamed = new ArrayList<>();
        for (WebElement e : driver.findElements(By.cssSelector("button, input, select, textarea, a, progress"))) {
            if (e.isDisplayed() && e.getAccessibleName().isBlank()) {
                unnamed.add(e.getTagName() + "#" + e.getAttribute("id") + " " + e.getAttribute("outerHTML"));
            }
        }
        return unnamed;
    }

    /** Saves the whole page (not only the window) as a PNG under target/screenshots/. */
    Path screenshot(String name) throws IOException {
        Dimension window = driver.manage().window().getSize();
        long height = ((Number) script("return Math.max(document.documentElement.scrollHeight,"
                + " document.body.scrollHeight)")).longValue();
        driver.manage().window().setSize(new Dimension(window.getWidth(),
                (int) Math.min(6000, Math.max(window.getHeight(), height + 140))));
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name);
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
            assertThat(Files.size(file)).isGreaterThan(1000);
            return file;
        } finally {
            driver.manage().window().setSize(window);
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
        }
    }
}
