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
        // its graph was never read: the protocol's metadata says so rather than list no inputs and no outputs
        TestServer.Response unknown = server.send(java.net.http.HttpRequest.newBuilder(server.uri("/v2/models/fresh"))
                .GET());
        assertThat(unknown.status()).as(unknown.text()).isEqualTo(409);
        assertThat(unknown.error()).contains("read from its graph when it loads").contains("FAILED");

        OnnxGraphs.provideRuntime(data);
        assertThat(server.deploy(Packages.zip(OnnxGraphs.nocode("fresh", OnnxGraphs.mixed(), ""))))
                .containsEntry("state", "READY");
        TestServer.Response known = server.send(java.net.http.HttpRequest.newBuilder(server.uri("/v2/models/fresh"))
                .GET());
        assertThat(known.status()).as(known.text()).isEqualTo(200);
        assertThat((java.util.List<?>) known.object().get("inputs")).hasSize(2);
        assertThat(known.object().get("versions")).isEqualTo(java.util.List.of("1", "2"));
    }
}
