package deployer.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.core.DeployerException;
import deployer.core.Json;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitTest {

    private static Object json(String text) throws Exception {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsWeightsAndShadowAndKeepsThemAsText() throws Exception {
        Split split = Split.parse(json("{\"split\": {\"3\": 90, \"4\": 10}, \"shadow\": {\"version\": 5,"
                + " \"percent\": 20}}"));
        assertThat(split.weights()).isEqualTo(Map.of(3, 90, 4, 10));
        assertThat(split.shadow()).isEqualTo(new Split.Shadow(5, 20));
        assertThat(split.versions()).containsExactly(3, 4, 5);
        assertThat(Split.weightsOf(split.weightsText())).isEqualTo(split.weights());
    }

    @Test
    void everyFaultIsNamedByItsField() throws Exception {
        assertThatThrownBy(() -> Split.parse(json("{\"split\": {\"0\": 10, \"3\": -1, \"4\": \"x\"}, \"extra\": 1,"
                + " \"shadow\": {\"version\": 2, \"percent\": 101}}")))
                .isInstanceOf(DeployerException.class)
                .hasMessageContaining("split.0: not a version number")
                .hasMessageContaining("split.3: the weight must be an integer from 0 to 100")
                .hasMessageContaining("split.4")
                .hasMessageContaining("extra: unknown key")
                .hasMessageContaining("shadow.percent");
        assertThatThrownBy(() -> Split.parse(json("{\"split\": {\"3\": 60, \"4\": 60}}")))
                .hasMessageContaining("split: the weights sum to 120");
        assertThatThrownBy(() -> Split.parse(json("[1]"))).hasMessageContaining("JSON object");
    }

    @Test
    void payloadSettingsNameTheirFields() throws Exception {
        assertThat(PayloadSettings.parse(json("{\"sample\": 0.1, \"redact\": [\"ssn\"]}"), "payloads."))
                .isEqualTo(new PayloadSettings(0.1, java.util.List.of("ssn")));
        assertThatThrownBy(() -> PayloadSettings.parse(json("{\"sample\": -1, \"redact\": \"ssn\", \"x\": 1}"),
                "payloads.")).hasMessageContaining("payloads.sample").hasMessageContaining("payloads.redact")
                .hasMessageContaining("payloads.x: unknown key");
    }
}
