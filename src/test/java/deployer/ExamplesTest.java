package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The examples in cells/ deploy as the README's curl sends them, and answer what their READMEs promise. */
class ExamplesTest extends ServerTest {

    @Test
    void echoExampleEchoesItsInput() throws IOException {
        Map<String, Object> d = server.deploy(Packages.zip(folder("cells/echo", "deploy.json", "serving")));

        assertThat(d).containsEntry("state", "READY");
        assertThat(server.predict("echo", "{\"hello\": \"world\"}").object())
                .containsEntry("echo", Map.of("hello", "world"));
    }

    @Test
    void irisExampleClassifiesTheDocumentedRows() throws IOException {
        Map<String, Object> d = server.deploy(Packages.tarGz(folder("cells/iris", "deploy.json", "serving", "model")));

        assertThat(d).containsEntry("state", "READY");
        Map<String, Object> setosa = server.predict("iris", "{\"features\": [5.1, 3.5, 1.4, 0.2]}").object();
        assertThat(setosa).containsEntry("class", "setosa");
        assertThat(TestServer.asMap(setosa.get("probabilities"))).containsEntry("setosa", 0.9973);
        Map<String, Object> batch = server.predict("iris",
                "{\"instances\": [[7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]]}").object();
        assertThat((List<?>) batch.get("predictions")).extracting(p -> (Object) ((Map<?, ?>) p).get("class"))
                .containsExactly((Object) "versicolor", "virginica");
        TestServer.Response bad = server.predict("iris", "{\"features\": [1, 2]}");
        assertThat(bad.status()).isEqualTo(400);
    }

    @Test
    void irisExampleAnswersTheOpenInferenceProtocolAsTheReadmeShows() throws IOException {
        server.deploy(Packages.zip(folder("cells/iris", "deploy.json", "serving", "model")));

        TestServer.Response r = server.post(server.uri("/v2/models/iris/infer"), "{\"id\": \"1\", \"inputs\": ["
                + "{\"name\": \"features\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [5.1, 3.5, 1.4, 0.2]}]}");

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.object()).containsEntry("id", "1").containsEntry("model_name", "iris");
        assertThat((List<?>) r.object().get("outputs")).anySatisfy(o -> assertThat(TestServer.asMap(o))
                .containsEntry("name", "class").containsEntry("data", List.of("setosa")));
    }

    /** The named files and folders of an example, as {@code zip -r} of them would carry. */
    private static Map<String, byte[]> folder(String root, String... parts) throws IOException {
        Path base = Path.of(root);
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String part : parts) {
            try (Stream<Path> walk = Files.walk(base.resolve(part))) {
                for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                    files.put(base.relativize(file).toString(), Files.readAllBytes(file));
                }
            }
        }
        return files;
    }
}
