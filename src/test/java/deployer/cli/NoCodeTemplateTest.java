package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.OnnxGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code deployer new --template onnx-nocode}: a folder of deploy.json and a graph, deployed with no script. */
class NoCodeTemplateTest extends CliTest {

    @Test
    void onnxNocodeTemplateDeploysAsItIsAndPredicts() throws Exception {
        OnnxGraphs.provideRuntime(server.data);
        Path dir = work.resolve("from-nocode");

        Cli.Run made = cli.run("new", "from-nocode", "--template", "onnx-nocode", "--dir", dir.toString());
        assertThat(made.exit()).as(made.toString()).isZero();
        assertThat(dir.resolve("model/model.onnx")).isRegularFile();
        assertThat(dir.resolve("serving")).doesNotExist();
        assertThat(Files.readString(dir.resolve("deploy.json"))).contains("\"runtime\": \"onnx\"");

        Cli.Run deployed = cli.run(server.with("deploy", dir.toString()));
        assertThat(deployed.exit()).as(deployed.toString()).isZero();
        var answer = server.predict("from-nocode", "{\"instances\": [[1.4, 0.2, 5.1, 3.5]]}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).startsWith("{\"predictions\":[[");
    }
}
