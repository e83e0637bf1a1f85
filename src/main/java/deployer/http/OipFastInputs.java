package deployer.http;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An inference request of FP32/FP64 tensors read in one pass over the body's bytes, for a no-code runtime: each
 * input's data goes straight into a {@code double[]} (which the runtime turns into its tensor) instead of a JSON tree
 * of boxed numbers that {@link OipOutputs#namedInputs} copies again. It takes {@code {"id"?, "inputs": [{"name",
 * "shape", "datatype", "data"}, …]}} and nothing else: another datatype, {@code parameters}, {@code outputs}, any
 * other key, an escaped string, malformed JSON, a whole number past 18 digits — answers null, and the general path
 * reads the body (and says what is wrong with it), so both paths give the model the same values.
 *
 * <p>A byte reader rather than Jackson's streaming parser: for the iris row of benchmark row 12, making the parser
 * and walking its tokens cost more than everything the JSON route does to read its row (which the runtime reads the
 * same way, {@code runtime.onnx.JsonRows}; the cell's runtime sees no server class, so the number reading is its
 * own there). The numbers are what {@link Double#parseDouble} makes of them: up to 18 significant digits and a power
 * of ten within ±22, the decimal is exact as a {@code long} and one multiplication or division rounds it correctly
 * (Clinger's fast path); any other number is given to {@code Double.parseDouble}. Whole numbers are read as the
 * server's parser reads them, as a {@code long} ({@code -0} is 0).
 */
final class OipFastInputs {

    /**
     * What was read: the named inputs as the model gets them, the request's {@code id} (or null), and whether it asks
     * for every output as binary ({@code parameters.binary_data_output}).
     */
    record Read(Map<String, Object> inputs, String id, boolean binaryOutput) {
    }

    private static final double[] POWERS = new double[23];
    private static final int MAX_DEPTH = 64;

    static {
        double p = 1;
        for (int k = 0; k < POWERS.length; k++) {
            POWERS[k] = p;
            p *= 10;
        }
    }

    /** Not the shape this reader takes: the general path reads the body instead. */
    private static final class NotFast extends Exception {
        NotFast() {
            super(null, null, false, false);
        }
    }

    private static final NotFast NOT_FAST = new NotFast();

    private final byte[] b;
    private int i;
    private double[] values = new double[16];
    private int count;

    /** Whether the request's JSON is followed by binary tensor data ({@link OipBinary}). */
    private final boolean binary;

    private OipFastInputs(byte[] body, boolean binary) {
        this.b = body;
        this.binary = binary;
    }

    static Read read(byte[] body) {
        if (body == null) {
            return null;
        }
        try {
            return new OipFastInputs(body, false).request();
        } catch (NotFast | ArrayIndexOutOfBoundsException e) {
            return null;
        }
    }

    /**
     * A request of the binary tensor data extension ({@link OipBinary}) whose JSON is the first {@code jsonLength}
     * bytes: FP32/FP64 inputs with {@code parameters.binary_data_size} get their values from the bytes after it, and
     * the request may say {@code parameters.binary_data_output}. Any other shape, or sizes that do not add up,
     * answer null: the general path reads it (and says what is wrong).
     */
    static Read read(byte[] body, int jsonLength) {
        try {
            Read read = new OipFastInputs(Arrays.copyOf(body, jsonLength), true).request();
            ByteBuffer bytes = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (Object t : read.inputs().values()) {
                @SuppressWarnings("unchecked")
                Map<String, Object> tensor = (Map<String, Object>) t;
                if (tensor.get("data") != null) {
                    continue;
                }
                long size = (Long) tensor.remove("binary_data_size");
                boolean fp32 = "FP32".equals(tensor.get("datatype"));
                long count = 1;
                for (Object d : (List<?>) tensor.get("shape")) {
                    count = Math.multiplyExact(count, (Long) d);
                }
                if (count * (fp32 ? 4 : 8) != size || size > bytes.remaining()) {
                    return null;
                }
                double[] values = new double[(int) count];
                for (int k = 0; k < values.length; k++) {
                    values[k] = fp32 ? bytes.getFloat() : bytes.getDouble();
                }
                tensor.put("data", values);
            }
            return bytes.hasRemaining() ? null : read;
        } catch (NotFast | ArrayIndexOutOfBoundsException | ArithmeticException e) {
            return null;
        }
    }

    private Read request() throws NotFast {
        expect('{');
        Map<String, Object> inputs = null;
        String id = null;
        boolean idSeen = false;
        Boolean binaryOutput = null;
        while (true) {
            String field = string();
            expect(':');
            skipSpace();
            switch (field) {
                case "inputs" -> {
                    if (inputs != null) {
                        throw NOT_FAST;
                    }
                    inputs = inputs();
                }
                case "id" -> {
                    if (idSeen) {
                        throw NOT_FAST;
                    }
                    idSeen = true;
                    id = b[i] == 'n' ? nullLiteral() : string();
                }
                case "parameters" -> {
                    if (!binary || binaryOutput != null) {
                        throw NOT_FAST;
                    }
                    onlyKey("binary_data_output");
                    binaryOutput = bool();
                    expect('}');
                }
                default -> throw NOT_FAST; // outputs, or a key the general path may refuse
            }
            if (closes('}')) {
                break;
            }
        }
        skipSpace();
        if (i != b.length || inputs == null || inputs.isEmpty()) {
            throw NOT_FAST;
        }
        return new Read(inputs, id, Boolean.TRUE.equals(binaryOutput));
    }

    private Map<String, Object> inputs() throws NotFast {
        expect('[');
        Map<String, Object> named = new LinkedHashMap<>();
        while (true) {
            expect('{');
            String name = null;
            String datatype = null;
            List<Object> shape = null;
            double[] data = null;
            long binarySize = -1;
            while (true) {
                String field = string();
                expect(':');
                skipSpace();
                switch (field) {
                    case "name" -> {
                        if (name != null) {
                            throw NOT_FAST;
                        }
                        name = string();
                    }
                    case "datatype" -> {
                        if (datatype != null) {
                            throw NOT_FAST;
                        }
                        datatype = string();
                    }
                    case "shape" -> {
                        if (shape != null) {
                            throw NOT_FAST;
                        }
                        shape = shape();
                    }
                    case "data" -> {
                        if (data != null) {
                            throw NOT_FAST;
                        }
                        expect('[');
                        count = 0;
                        array(1);
                        data = Arrays.copyOf(values, count);
                    }
                    case "parameters" -> {
                        if (!binary || binarySize >= 0) {
                            throw NOT_FAST;
                        }
                        onlyKey("binary_data_size");
                        binarySize = wholeNumber(); // as the general path takes it: digits only, no 16.0 or 1e3
                        expect('}');
                    }
                    default -> throw NOT_FAST; // a field the general path may refuse
                }
                if (closes('}')) {
                    break;
                }
            }
            if (name == null || name.isEmpty() || shape == null || (data == null) == (binarySize < 0)
                    || !("FP32".equals(datatype) || "FP64".equals(datatype)) || named.containsKey(name)) {
                throw NOT_FAST;
            }
            Map<String, Object> tensor = new LinkedHashMap<>();
            tensor.put("shape", shape);
            tensor.put("datatype", datatype);
            if (data != null) {
                tensor.put("data", data);
            } else {
                tensor.put("binary_data_size", binarySize); // filled by read(body, jsonLength)
            }
            named.put(name, tensor);
            if (closes(']')) {
                return named;
            }
        }
    }

    /** A shape: whole numbers from 0, as {@code Long}s. */
    private List<Object> shape() throws NotFast {
        expect('[');
        List<Object> shape = new ArrayList<>(4);
        skipSpace();
        if (b[i] == ']') {
            i++;
            return shape;
        }
        while (true) {
            shape.add(wholeNumber());
            if (closes(']')) {
                return shape;
            }
        }
    }

    /** A whole number from 0 written as digits alone, as the server's parser reads it into a {@code Long}. */
    private long wholeNumber() throws NotFast {
        skipSpace();
        int start = i;
        long n = 0;
        while (b[i] >= '0' && b[i] <= '9') {
            n = n * 10 + (b[i++] - '0');
        }
        int digits = i - start;
        if (digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') || b[i] == '.' || b[i] == 'e'
                || b[i] == 'E') {
            throw NOT_FAST;
        }
        return n;
    }

    /** The numbers of an array whose '[' was read, and of the arrays inside it, flat, row-major. */
    private void array(int depth) throws NotFast {
        skipSpace();
        if (b[i] == ']') {
            i++;
            return;
        }
        while (true) {
            skipSpace();
            if (b[i] == '[') {
                if (depth >= MAX_DEPTH) {
                    throw NOT_FAST;
                }
                i++;
                array(depth + 1);
            } else {
                double v = number();
                if (count == values.length) {
                    values = Arrays.copyOf(values, count * 2);
                }
                values[count++] = v;
            }
            if (closes(']')) {
                return;
            }
        }
    }

    /** After a value: true at {@code close}, false at a ',' (another value follows); anything else is not fast. */
    private boolean closes(char close) throws NotFast {
        skipSpace();
        byte c = b[i++];
        if (c == close) {
            return true;
        }
        if (c != ',') {
            throw NOT_FAST;
        }
        return false;
    }

    /** A string of printable ASCII without escapes (names, datatypes, ids as clients write them). */
    private String string() throws NotFast {
        expect('"');
        int start = i;
        while (b[i] != '"') {
            if (b[i] == '\\' || b[i] < 0x20) { // also every byte past ASCII: negative as a Java byte
                throw NOT_FAST;
            }
            i++;
        }
        return new String(b, start, i++ - start, StandardCharsets.US_ASCII);
    }

    /** The start of a {@code parameters} object holding {@code key} and nothing else: up to its value. */
    private void onlyKey(String key) throws NotFast {
        expect('{');
        if (!key.equals(string())) {
            throw NOT_FAST;
        }
        expect(':');
    }

    private boolean bool() throws NotFast {
        skipSpace();
        if (b[i] == 't' && b[i + 1] == 'r' && b[i + 2] == 'u' && b[i + 3] == 'e') {
            i += 4;
            return true;
        }
        if (b[i] == 'f' && b[i + 1] == 'a' && b[i + 2] == 'l' && b[i + 3] == 's' && b[i + 4] == 'e') {
            i += 5;
            return false;
        }
        throw NOT_FAST;
    }

    private String nullLiteral() throws NotFast {
        if (b[i] != 'n' || b[i + 1] != 'u' || b[i + 2] != 'l' || b[i + 3] != 'l') {
            throw NOT_FAST;
        }
        i += 4;
        return null;
    }

    private void expect(char c) throws NotFast {
        skipSpace();
        if (b[i++] != c) {
            throw NOT_FAST;
        }
    }

    private void skipSpace() {
        while (i < b.length && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) {
            i++;
        }
    }

    /** One JSON number, as the server's parser reads it. */
    private double number() throws NotFast {
        int start = i;
        boolean negative = b[i] == '-';
        if (negative) {
            i++;
        }
        long mantissa = 0;
        int digits = 0;
        int exponent = 0;
        boolean exact = true;
        if (b[i] == '0') {
            i++;
        } else if (b[i] >= '1' && b[i] <= '9') {
            while (i < b.length && b[i] >= '0' && b[i] <= '9') {
                if (digits < 18) {
                    mantissa = mantissa * 10 + (b[i] - '0');
                    digits++;
                } else {
                    exact = false;
                }
                i++;
            }
        } else {
            throw NOT_FAST;
        }
        boolean whole = true;
        if (i < b.length && b[i] == '.') {
            whole = false;
            i++;
            if (i >= b.length || b[i] < '0' || b[i] > '9') {
                throw NOT_FAST;
            }
            while (i < b.length && b[i] >= '0' && b[i] <= '9') {
                if (digits < 18) {
                    mantissa = mantissa * 10 + (b[i] - '0');
                    if (mantissa != 0) {
                        digits++;
                    }
                    exponent--;
                } else {
                    exact = false;
                }
                i++;
            }
        }
        if (i < b.length && (b[i] == 'e' || b[i] == 'E')) {
            whole = false;
            i++;
            boolean down = false;
            if (b[i] == '+' || b[i] == '-') {
                down = b[i] == '-';
                i++;
            }
            if (i >= b.length || b[i] < '0' || b[i] > '9') {
                throw NOT_FAST;
            }
            int e = 0;
            while (i < b.length && b[i] >= '0' && b[i] <= '9') {
                e = Math.min(e * 10 + (b[i] - '0'), 100_000);
                i++;
            }
            exponent += down ? -e : e;
        }
        if (whole) {
            if (!exact) {
                throw NOT_FAST; // past 18 digits: the server's parser decides (it refuses one beyond a long)
            }
            return negative ? -mantissa : mantissa;
        }
        if (!exact || mantissa >= (1L << 53) || exponent < -22 || exponent > 22) {
            return Double.parseDouble(new String(b, start, i - start, StandardCharsets.US_ASCII));
        }
        double value = exponent < 0 ? mantissa / POWERS[-exponent] : mantissa * POWERS[exponent];
        return negative ? -value : value;
    }
}
