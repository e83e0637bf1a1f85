package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A deploy that cannot start is FAILED with a reason the user can act on; a model's errors never take the server down. */
class DeployFailureTest extends ServerTest {

    @Test
    void compileErrorFailsTheDeployWithFileAndLine() {
        Map<String, byte[]> files = TestModels.scripted("broken", "Broken", "", "return undefinedThing;");

        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("serving/Broken.java:17").contains("undefinedThing");
        assertThat(d.get("url")).isNull();
    }

    @Test
    void loadThrowingFailsTheDeployWithItsMessage() {
        Map<String, byte[]> files = TestModels.scripted("noload", "NoLoad",
                "if (true) throw new java.io.FileNotFoundException(\"model/weights.bin is missing\");", "return 1;");

        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("load() failed").contains("model/weights.bin is missing");
    }

    @Test
    void missingEntryClassFailsTheDeployNamingIt() {
        Map<String, byte[]> files = TestModels.echo("lost");
        files.put("deploy.json", TestModels.bytes(TestModels.manifest("lost", "example.NotThere")));

        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("example.NotThere").contains("not found");
    }

    @Test
    void classThatIsNotAModelFailsTheDeploy() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", TestModels.bytes(TestModels.manifest("plain", "example.Plain")));
        files.put("serving/Plain.java", TestModels.bytes("package example; public class Plain { }"));

        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("example.Plain does not implement deployer.spi.Model");
    }

    @Test
    void packageWithoutEntryOrServiceFileIsRefusedSayingWhatToAdd() {
        Map<String, byte[]> files = TestModels.echo("anonymous");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"anonymous\"}"));

        TestServer.Response r = server.upload(Packages.zip(files), "wait=30");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.error()).contains("no model class found").contains("\"entry\"");
        assertThat(server.get("/api/models").list()).isEmpty();
    }

    @Test
    void failingHealthSampleFailsTheDeploy() {
        Map<String, byte[]> files = TestModels.scripted("picky", "Picky", "",
                "if (input instanceof Map) throw new IllegalStateException(\"cannot score maps\"); return 1;");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"picky\", \"entry\": \"example.Picky\","
                + " \"health\": {\"sample\": {\"features\": [1, 2]}}}"));

        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("health.sample").contains("cannot score maps");
    }

    @Test
    void scoreThrowingAnswers500NamingTheModelAndTheCellStaysUp() {
        server.deploy(Packages.zip(TestModels.scripted("fragile", "Fragile", "",
                "if (\"boom\".equals(input)) throw new ArithmeticException(\"/ by zero\"); return input;")));

        TestServer.Response failed = server.predict("fragile", "\"boom\"");
        TestServer.Response fine = server.predict("fragile", "\"fine\"");

        assertThat(failed.status()).isEqualTo(500);
        assertThat(failed.error()).contains("fragile v1").contains("score").contains("/ by zero");
        assertThat(fine.status()).isEqualTo(200);
        assertThat(fine.text()).isEqualTo("\"fine\"");
    }

    @Test
    void badJsonBodyAnswers400() {
        server.deploy(Packages.zip(TestModels.echo("strict")));

        TestServer.Response r = server.predict("strict", "{\"x\": ");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.error()).contains("not valid JSON");
    }

    @Test
    void failedFirstVersionLeavesNoPortListeningAndAFailedModel() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.scripted("dud", "Dud",
                "throw new IllegalStateException(\"no\");", "return 1;")));

        TestServer.Response r = server.predict("dud", "1");

        assertThat(d).containsEntry("state", "FAILED");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.error()).contains("no version READY");
        List<Object> models = server.get("/api/models").list();
        assertThat(asMap(models.get(0))).containsEntry("state", "FAILED").containsEntry("url", null);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void failedNewVersionKeepsTheOldOneServing() {
        server.deploy(Packages.zip(TestModels.echo("steady")));
        Map<String, Object> bad = server.deploy(Packages.zip(TestModels.scripted("steady", "Bad",
                "throw new IllegalStateException(\"bad weights\");", "return 1;")));

        assertThat(bad).containsEntry("state", "FAILED").containsEntry("version", 2L);
        TestServer.Response r = server.predict("steady", "7");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.object()).containsEntry("version", 1L);
    }
}
