package deployer.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.core.DeployerException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The binary tensor data extension's byte-level rules: half floats, and what a request's bytes must add up to. */
class OipBinaryTest {

    @Test
    void everyHalfFloatSurvivesTheRoundTripAndKnownOnesReadRight() {
        for (int h = 0; h < 0x10000; h++) {
            float f = OipBinary.halfToFloat((short) h);
            if (Float.isNaN(f)) {
                assertThat(Float.isNaN(OipBinary.halfToFloat(OipBinary.floatToHalf(f)))).isTrue();
                continue;
            }
            assertThat(OipBinary.floatToHalf(f) & 0xffff).as("half 0x%04x (%s)", h, f).isEqualTo(h);
        }
        assertThat(OipBinary.halfToFloat((short) 0x3c00)).isEqualTo(1.0f);
        assertThat(OipBinary.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(OipBinary.halfToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(OipBinary.halfToFloat((short) 0xc000)).isEqualTo(-2f);
        assertThat(OipBinary.halfToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
        // rounding to nearest, ties to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10
        assertThat(OipBinary.floatToHalf(1 + 0x1p-11f)).isEqualTo((short) 0x3c00);
        assertThat(OipBinary.floatToHalf(1 + 0x1p-11f + 0x1p-20f)).isEqualTo((short) 0x3c01);
        assertThat(OipBinary.floatToHalf(1e6f)).isEqualTo((short) 0x7c00);
        assertThat(OipBinary.floatToHalf(1e-10f)).isEqualTo((short) 0);
    }

    private static Map<String, Object> input(String name, String datatype, List<Long> shape, long size) {
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("name", name);
        input.put("shape", shape);
        input.put("datatype", datatype);
        input.put("parameters", new LinkedHashMap<>(Map.of("binary_data_size", size)));
        return input;
    }

    @Test
    void inputsAreReadInOrderAfterTheJsonAndLoseOnlyTheirSizeParameter() {
        Map<String, Object> a = input("a", "INT16", List.of(2L), 4);
        ((Map<String, Object>) a.get("parameters")).put("content_type", "x");
        Map<String, Object> b = input("b", "FP16", List.of(1L), 2);
        Map<String, Object> plain = new LinkedHashMap<>(Map.of("name", "c", "data", List.of(1L)));
        byte[] body = {'{', '}', (byte) 0xff, (byte) 0xff, 0x02, 0x00, 0x00, 0x3c};

        OipBinary.readInputs(new ArrayList<>(List.of(a, plain, b)), body, 2, false);

        assertThat(a).containsEntry("data", List.of(-1L, 2L)).containsEntry("parameters", Map.of("content_type", "x"));
        assertThat(b).containsEntry("data", List.of(1.0)).doesNotContainKey("parameters");
        assertThat(plain).containsEntry("data", List.of(1L));
    }

    @Test
    void badBytesAreRefusedNamingTheTensor() {
        byte[] body = {'{', '}', 2, 0, 0, 0, 'a'};
        assertThatThrownBy(() -> OipBinary.readInputs(List.of(input("t", "BOOL", List.of(5L), 5)), body, 2, false))
                .isInstanceOf(DeployerException.class).hasMessageContaining("input \"t\": BOOL value 0 is the byte 2");
        assertThatThrownBy(() -> OipBinary.readInputs(List.of(input("s", "BYTES", List.of(1L), 5)), body, 2, false))
                .hasMessageContaining("input \"s\": BYTES element 0 says 2 bytes, but 1 are left");
        assertThatThrownBy(() -> OipBinary.readInputs(List.of(input("u", "FP64", List.of(1L), 5)), body, 2, false))
                .hasMessageContaining("input \"u\": parameters.binary_data_size is 5 bytes, but shape 1 values of"
                        + " FP64 take 8 bytes");
        byte[] latin1 = {'{', '}', 1, 0, 0, 0, (byte) 0xe9};
        assertThatThrownBy(() -> OipBinary.readInputs(List.of(input("w", "BYTES", List.of(1L), 5)), latin1, 2,
                false)).hasMessageContaining("input \"w\": BYTES element 0 is not UTF-8 text");
        byte[] two = {'{', '}', 0, 0, 0, 0, 0, 0, 0, 0};
        assertThatThrownBy(() -> OipBinary.readInputs(List.of(input("n", "BYTES", List.of(3L), 8)), two, 2, false))
                .hasMessageContaining("input \"n\": its shape holds 3 values, but its parameters.binary_data_size"
                        + " bytes hold 2 BYTES elements");
        Map<String, Object> both = input("d", "INT8", List.of(1L), 1);
        both.put("data", List.of(1L));
        assertThatThrownBy(() -> OipBinary.readInputs(List.of(both), body, 6, false))
                .hasMessageContaining("input \"d\" gives both");
        assertThatThrownBy(() -> OipBinary.jsonLength(Map.of(OipBinary.HEADER, List.of("-1")), 10))
                .hasMessageContaining("Inference-Header-Content-Length");
        assertThat(OipBinary.jsonLength(Map.of(OipBinary.HEADER, List.of(" 10 ")), 10)).isEqualTo(10);
        assertThat(OipBinary.jsonLength(Map.of(), 10)).isEqualTo(-1);
    }
}
