package deployer.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The one-pass reader of an inference request gives the model what the general path gives, or leaves it to it. */
class OipFastInputsTest {

    private static OipFastInputs.Read fast(String body) {
        return OipFastInputs.read(body.getBytes(StandardCharsets.UTF_8));
    }

    /** Asserts that the fast reader took {@code body} and read what the general path reads from it. */
    private static void readsAsTheGeneralPath(String body) {
        OipFastInputs.Read fast = fast(body);
        assertThat(fast).as(body).isNotNull();
        Map<String, Object> request = OipOutputs.parseRequest(body.getBytes(StandardCharsets.UTF_8));
        Map<String, Object> general = OipOutputs.namedInputs(request);
        assertThat(fast.id()).isEqualTo(request.get("id"));
        assertThat(fast.inputs().keySet()).containsExactlyElementsOf(general.keySet());
        for (String name : general.keySet()) {
            Map<?, ?> f = (Map<?, ?>) fast.inputs().get(name);
            Map<?, ?> g = (Map<?, ?>) general.get(name);
            assertThat(new ArrayList<Object>(f.keySet())).isEqualTo(new ArrayList<Object>(g.keySet()));
            assertThat(f.get("shape")).isEqualTo(g.get("shape"));
            assertThat(f.get("datatype")).isEqualTo(g.get("datatype"));
            double[] data = (double[]) f.get("data");
            List<?> numbers = (List<?>) g.get("data");
            assertThat(data).hasSize(numbers.size());
            List<String> differ = new ArrayList<>();
            for (int k = 0; k < data.length; k++) {
                double expected = ((Number) numbers.get(k)).doubleValue();
                if (Double.compare(data[k], expected) != 0) {
                    differ.add(numbers.get(k) + ": " + data[k] + " / " + expected);
                }
            }
            assertThat(differ).as(name).isEmpty();
        }
    }

    @Test
    void everySpellingOfANumberReadsAsTheGeneralPathReadsIt() {
        Random random = new Random(12);
        List<String> numbers = new ArrayList<>(List.of("0", "-0", "-0.0", "1", "-1", "0.5", "-0.000123", "1e5",
                "1E-5", "2.5e+3", "1234567890123456789012.5", "0.1234567890123456789", "1e400", "-1e-400",
                "9007199254740993", "123456789012345678", "4.35", "3.4028235e38", "1.17549435E-38",
                "0.30000000000000004"));
        for (int k = 0; k < 3000; k++) {
            double d = (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(40) - 20);
            numbers.add(switch (k % 4) {
                case 0 -> Double.toString(d);
                case 1 -> Float.toString((float) d);
                case 2 -> String.format(Locale.ROOT, "%.6f", d);
                default -> String.format(Locale.ROOT, "%.9e", d);
            });
        }
        String data = "[" + String.join(", ", numbers) + "]";
        readsAsTheGeneralPath("{\"inputs\": [{\"name\": \"x\", \"shape\": [" + numbers.size() + "], \"datatype\":"
                + " \"FP64\", \"data\": " + data + "}]}");
    }

    @Test
    void requestsAsClientsWriteThemReadAsTheGeneralPathReadsThem() {
        for (String body : List.of(
                "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1.4, 0.2,"
                        + " 5.1, 3.5]}]}",
                // tritonclient's order, nested data, an id, two inputs, spacing of every kind
                "{\"id\":\"r-1\",\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[2,2],\"data\":[[1,2],"
                        + "[3,4]]},{\"name\":\"b\",\"shape\":[0],\"datatype\":\"FP64\",\"data\":[]}]}",
                " {\n\t\"inputs\" : [ { \"data\" : [ [ [ -1e-3 ] ] ] , \"shape\" : [ 1 , 1 , 1 ] , \"name\" : \"c\" ,"
                        + " \"datatype\" : \"FP64\" } ] , \"id\" : null }\r\n",
                "{\"inputs\": [{\"name\": \"s\", \"shape\": [], \"datatype\": \"FP32\", \"data\": [7]}]}")) {
            readsAsTheGeneralPath(body);
        }
    }

    @Test
    void anythingElseIsLeftToTheGeneralPath() {
        String x = "{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP32\", \"data\": [1, 2]}";
        for (String body : List.of("", "[]", "{}", "{\"inputs\": []}", "{\"inputs\": [" + x + "]} x",
                "{\"inputs\": [" + x + "], \"outputs\": [{\"name\": \"y\"}]}",
                "{\"inputs\": [" + x + "], \"parameters\": {}}", "{\"id\": 7, \"inputs\": [" + x + "]}",
                "{\"id\": \"a\\\"b\", \"inputs\": [" + x + "]}", "{\"id\": \"é\", \"inputs\": [" + x + "]}",
                "{\"id\": \"a\"] \"inputs\": [" + x + "]}", "{\"inputs\": [" + x + "]",
                "{\"inputs\": [" + x + ", " + x + "]}", "{\"inputs\": [" + x + "], \"inputs\": [" + x + "]}",
                "{\"inputs\": [" + x.replace("FP32", "INT32") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[1,, 2]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[1, 2,]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[1 2]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[01, 2]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[1., 2]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[+1, 2]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[NaN, 2]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[true, 2]") + "]}",
                "{\"inputs\": [" + x.replace("[1, 2]", "[1234567890123456789012, 2]") + "]}",
                "{\"inputs\": [" + x.replace("[2]", "[-2]") + "]}", "{\"inputs\": [" + x.replace("[2]", "[2.0]") + "]}",
                "{\"inputs\": [" + x.replace("[2]", "[02]") + "]}",
                "{\"inputs\": [" + x.replace("}", ", \"parameters\": {}}") + "]}",
                "{\"inputs\": [" + x.replace("\"x\"", "\"\"") + "]}")) {
            assertThat(fast(body)).as(body).isNull();
        }
    }
    @Test
    void aBinaryRequestReadsAsTheGeneralBinaryPathReadsItOrIsLeftToIt() {
        String json = "{\"id\":\"7\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":16}},{\"name\":\"y\",\"shape\":[1],\"datatype\":\"FP64\","
                + "\"data\":[0.25]}],\"parameters\":{\"binary_data_output\":true}}";
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        byte[] body = java.nio.ByteBuffer.allocate(head.length + 16).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .put(head).putFloat(1.5f).putFloat(-0.1f).putFloat(3f).putFloat(1e-30f).array();

        OipFastInputs.Read fast = OipFastInputs.read(body, head.length);
        Map<String, Object> general = OipOutputs.namedInputs(OipOutputs.parseRequest(body, head.length,
                (request, offset) -> OipBinary.readInputs(request.get("inputs"), body, offset, true)));

        assertThat(fast).isNotNull();
        assertThat(fast.id()).isEqualTo("7");
        assertThat(fast.binaryOutput()).isTrue();
        for (String name : List.of("x", "y")) {
            Map<?, ?> f = (Map<?, ?>) fast.inputs().get(name);
            Map<?, ?> g = (Map<?, ?>) general.get(name);
            assertThat(new ArrayList<Object>(f.keySet())).isEqualTo(new ArrayList<Object>(g.keySet()));
            assertThat(f.get("shape")).isEqualTo(g.get("shape"));
            assertThat(f.get("data")).isInstanceOf(double[].class);
        }
        assertThat((double[]) ((Map<?, ?>) fast.inputs().get("x")).get("data"))
                .isEqualTo((double[]) ((Map<?, ?>) general.get("x")).get("data"))
                .containsExactly(1.5f, -0.1f, 3f, 1e-30f);
        // sizes that do not fit, bytes left over, other parameters or datatypes: the general path's to answer
        assertThat(OipFastInputs.read(java.util.Arrays.copyOf(body, body.length - 1), head.length)).isNull();
        assertThat(OipFastInputs.read(java.util.Arrays.copyOf(body, body.length + 4), head.length)).isNull();
        byte[] int32 = json.replace("\"FP32\"", "\"INT32\"").getBytes(StandardCharsets.UTF_8);
        assertThat(OipFastInputs.read(java.util.Arrays.copyOf(int32, int32.length + 16), int32.length)).isNull();
        byte[] other = json.replace("binary_data_output", "priority").getBytes(StandardCharsets.UTF_8);
        assertThat(OipFastInputs.read(java.util.Arrays.copyOf(other, other.length + 16), other.length)).isNull();
        for (String size : List.of("16.0", "1.6e1", "016")) {
            byte[] odd = json.replace("\"binary_data_size\":16", "\"binary_data_size\":" + size)
                    .getBytes(StandardCharsets.UTF_8);
            assertThat(OipFastInputs.read(java.util.Arrays.copyOf(odd, odd.length + 16), odd.length)).as(size)
                    .isNull();
        }
        // without the header, "parameters" is never the fast reader's
        assertThat(OipFastInputs.read(head)).isNull();
    }
}
