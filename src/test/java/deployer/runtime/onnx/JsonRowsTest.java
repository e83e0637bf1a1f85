package deployer.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fast reader of {"instances": rows} gives exactly what the general path gives, or leaves the body to it. */
class JsonRowsTest {

    private static final Port FP32 = new Port("x", "FP32", null, new long[] {-1, 3}, false);
    private static final Port FP64 = new Port("x", "FP64", null, new long[] {-1, 3}, false);

    private static Feeds.Feed general(Port port, String body) throws Exception {
        return new Feeds(List.of(port)).fromJson(Json.parse(body.getBytes(StandardCharsets.UTF_8))).get(0);
    }

    private static Feeds.Feed fast(Port port, String body) {
        return JsonRows.read(body.getBytes(StandardCharsets.UTF_8), port);
    }

    @Test
    void everySpellingOfANumberReadsAsTheGeneralPathReadsIt() throws Exception {
        Random random = new Random(16);
        List<String> numbers = new ArrayList<>(List.of("0", "-0", "1", "-1", "0.5", "-0.000123", "1e5", "1E-5",
                "2.5e+3", "1234567890123456789012.5", "0.1234567890123456789", "1e400", "-1e-400", "9007199254740993",
                "4.35", "3.4028235e38", "1.17549435E-38", "0.30000000000000004"));
        for (int k = 0; k < 3000; k++) {
            double d = (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(40) - 20);
            numbers.add(switch (k % 4) {
                case 0 -> Double.toString(d);
                case 1 -> Float.toString((float) d);
                case 2 -> String.format(Locale.ROOT, "%.6f", d);
                default -> String.format(Locale.ROOT, "%.9e", d);
            });
        }
        while (numbers.size() % 3 != 0) {
            numbers.add("7");
        }
        StringBuilder body = new StringBuilder("{ \"instances\" : [");
        for (int r = 0; r < numbers.size() / 3; r++) {
            body.append(r == 0 ? "" : ",\n ").append('[').append(String.join(", ", numbers.subList(3 * r, 3 * r + 3)))
                    .append(']');
        }
        body.append("] }");
        for (Port port : List.of(FP32, FP64)) {
            Feeds.Feed fast = fast(port, body.toString());
            Feeds.Feed general = general(port, body.toString());
            assertThat(fast).as(port.datatype()).isNotNull();
            assertThat(fast.shape()).containsExactly(general.shape());
            List<String> differ = new ArrayList<>();
            for (int k = 0; k < numbers.size(); k++) {
                double f = port == FP32 ? ((float[]) fast.data())[k] : ((double[]) fast.data())[k];
                double g = port == FP32 ? ((float[]) general.data())[k] : ((double[]) general.data())[k];
                if (Double.compare(f, g) != 0) {
                    differ.add(numbers.get(k) + ": " + f + " / " + g);
                }
            }
            assertThat(differ).as(port.datatype()).isEmpty();
            if (port == FP32) {
                assertThat((float[]) fast.data()).containsExactly((float[]) general.data());
            } else {
                assertThat((double[]) fast.data()).containsExactly((double[]) general.data());
            }
        }
    }

    @Test
    void anythingElseIsLeftToTheGeneralPath() {
        for (String body : List.of("{\"instances\": [[1, 2]]}", "{\"instances\": [[1, 2, 3], [1, 2]]}",
                "{\"instances\": []}", "{\"instances\": [[]]}", "{\"instances\": [[1, \"2\", 3]]}",
                "{\"instances\": [[1, 2, 3]], \"x\": 1}", "{\"inputs\": {\"x\": [[1, 2, 3]]}}",
                "{\"instances\": [[01, 2, 3]]}", "{\"instances\": [[1., 2, 3]]}", "{\"instances\": [[1, 2, 3]]} x",
                "{\"instances\": [[1, 2, null]]}", "{\"instances\": [[[1, 2, 3]]]}", "{\"instances\": [[1, 2, 3]",
                "{\"instances\": [[+1, 2, 3]]}", "{\"instances\": [[123456789012345678901234, 2, 3]]}", "{\"instances\": [[NaN, 2, 3]]}", "", "[[1, 2, 3]]")) {
            assertThat(fast(FP32, body)).as(body).isNull();
        }
        Port ints = new Port("x", "INT64", null, new long[] {-1, 3}, false);
        assertThat(fast(ints, "{\"instances\": [[1, 2, 3]]}")).isNull();
    }
}
