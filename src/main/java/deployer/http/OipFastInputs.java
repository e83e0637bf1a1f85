package deployer.http;

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

    /** What was read: the named inputs as the model gets them, and the request's {@code id} (or null). */
    record Read(Map<String, Object> inputs, String id) {
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

    private OipFastInputs(byte[] body) {
        this.b = body;
    }

    static Read read(byte[] body) {
        if (body == null) {
            return null;
        }
        try {
            return new OipFastInputs(body).request();
        } catch (NotFast | ArrayIndexOutOfBoundsException e) {
            return null;
        }
    }

    private Read request() throws NotFast {
        expect('{');
        Map<String, Object> inputs = null;
        String id = null;
        boolean idSeen = false;
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
                default -> throw NOT_FAST; // outputs, parameters, or a key the general path may refuse
            }
            if (closes('}')) {
                break;
            }
        }
        skipSpace();
        if (i != b.length || inputs == null || inputs.isEmpty()) {
            throw NOT_FAST;
        }
        return new Read(inputs, id);
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
                    default -> throw NOT_FAST; // parameters, or a field the general path may refuse
                }
                if (closes('}')) {
                    break;
                }
            }
            if (name == null || name.isEmpty() || shape == null || data == null
                    || !("FP32".equals(datatype) || "FP64".equals(datatype)) || named.containsKey(name)) {
                throw NOT_FAST;
            }
            Map<String, Object> tensor = new LinkedHashMap<>();
            tensor.put("shape", shape);
            tensor.put("datatype", datatype);
            tensor.put("data", data);
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
            shape.add(n);
            if (closes(']')) {
                return shape;
            }
        }
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
