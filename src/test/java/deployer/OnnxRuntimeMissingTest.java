package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A fresh box: a no-code package without lib/ on a server that has no ONNX Runtime yet is told where to put one. */
class OnnxRuntimeMissingTest extends ServerTest {

    @Test
    void noCodePackageOnAServerWithoutOnnxRuntimeFailsSayingWhereToPutIt() {
        Map<String, Object> d = server.deploy(Packages.zip(OnnxGraphs.nocode("fresh", OnnxGraphs.mixed(), "")));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("ONNX Runtime").contains(data.resolve("runtimes").toString())
                .contains("README");

        OnnxGraphs.provideRuntime(data);
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("fresh", OnnxGraphs.mixed(), ""))))
                .containsEntry("state", "READY");
    }
}
