package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model's failure names the line of the model that threw: its own stack frames, cut at the server's, in the
 * deployment's error, its events and the server's log at WARN — while its clients get one line.
 */
class ModelTraceTest {

    /** A helper that dereferences null: line 21 of the script TestModels writes (load is line 12, score 17). */
    static final String MEMBERS = """
            private int length(String s) {
                return s.length();
            }
            """;

    @TempDir
    Path work;

    @Test
    void aFailingScoreNamesTheModelsFramesInTheErrorTheEventsAndTheLog() throws Exception {
        Map<String, byte[]> files = TestModels.scripted("deep", "Deep", "", "return length(null);", MEMBERS);
        files.put("deploy.json", TestModels.bytes("{\"name\": \"deep\", \"entry\": \"example.Deep\","
                + " \"health\": {\"sample\": {\"x\": 1}}}"));
        Path log = work.resolve("server.log");
        ChildHttp http = new ChildHttp();

        try (ChildServer server = ChildServer.start(work.resolve("data"), log)) {
            Map<String, Object> d = http.upload(server, Packages.zip(files), "wait=60").object();
            List<Map<String, Object>> events = http.events(server, "deep");

            String error = (String) d.get("error");
            assertThat(d).containsEntry("state", "FAILED");
            assertThat(error).contains("health.sample failed: model deep v1 failed in score: "
                    + "java.lang.NullPointerException")
                    .contains("\tat cell-deep-v1//example.Deep.length(Deep.java:21)\n"
                            + "\tat cell-deep-v1//example.Deep.score(Deep.java:17)")
                    .doesNotContain("deployer.cell.");
            assertThat(events).anySatisfy(e -> assertThat((String) e.get("message"))
                    .contains("\tat cell-deep-v1//example.Deep.length(Deep.java:21)"));
            String written = Files.readString(log);
            assertThat(written).containsPattern("WARN .* deep v1 - score failed: java.lang.NullPointerException")
                    .contains("\tat cell-deep-v1//example.Deep.length(Deep.java:21)");
        }
    }

    @Test
    void aFailingLoadNamesItsFramesAndTheClientOfAFailingScoreGetsOneLine(@TempDir Path data) throws Exception {
        try (TestServer server = TestServer.start(data)) {
            Map<String, Object> failed = server.deploy(Packages.zip(TestModels.scripted("noload", "NoLoad",
                    "length(null);", "return 1;", MEMBERS)));
            server.deploy(Packages.zip(TestModels.scripted("fragile", "Fragile", "",
                    "if (\"boom\".equals(input)) return length(null); return input;", MEMBERS)));
            TestServer.Response answer = server.predict("fragile", "\"boom\"");

            assertThat((String) failed.get("error")).startsWith("load() failed: java.lang.NullPointerException")
                    .contains("\tat cell-noload-v1//example.NoLoad.length(NoLoad.java:21)\n"
                            + "\tat cell-noload-v1//example.NoLoad.load(NoLoad.java:12)")
                    .doesNotContain("deployer.cell.");
            assertThat(answer.status()).isEqualTo(500);
            assertThat(answer.error()).contains("fragile v1 failed in score: java.lang.NullPointerException")
                    .doesNotContain("\tat ");
        }
    }
}
