package deployer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the admin page tests share: one headless Chromium for the class (skipped where Debian's chromium-driver is
 * not installed), a data and a work folder per test, and the test's server, which each test or subclass starts with
 * the settings it needs and this class stops.
 */
abstract class BrowserTest {

    @TempDir
    static Path profile;

    @TempDir
    Path data;

    @TempDir
    Path work;

    static Browser browser;
    TestServer server;

    @BeforeAll
    static void startBrowser() {
        assumeTrue(Browser.available(),
                "no " + Browser.CHROMEDRIVER + " here (apt-get install chromium chromium-driver)");
        browser = Browser.start(profile);
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** Makes {@code started} this test's server and opens its admin page in a fresh session, at desktop size. */
    void openAdminPage(TestServer started) {
        server = started;
        browser.driver.manage().window().setSize(Browser.DESKTOP);
        browser.open(server.uri("/"));
        browser.driver.manage().deleteAllCookies();
        browser.open(server.uri("/"));
    }
}
