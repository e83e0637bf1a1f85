package deployer.runtime.onnx;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The common JSON request, {@code {"instances": [[n, …], …]}} of numbers for a graph with one FP32 or FP64 input of
 * rank 2, read straight from the body's bytes into the flat array the tensor is made of. The general path (the
 * server's JSON tree, then {@link Feeds#fromJson}) boxes every number and walks the rows twice; on a row of 256
 * features that was 40 % of a request's Java time (benchmark row 14). Anything else — other keys, strings, nesting,
 * uneven rows, a shape that does not fit — answers null and goes the general way, which also says what is wrong.
 *
 * <p>The numbers are what {@link Double#parseDouble} makes of them (a float input takes that double, rounded, as the
 * general path does): up to 18 significant digits and a power of ten within ±22, the decimal is exact as a
 * {@code long} and one multiplication or division rounds it correctly (Clinger's fast path); any other number is
 * given to {@code Double.parseDouble}.
 */
final class JsonRows {

    private static final byte[] KEY = "\"instances\"".getBytes(StandardCharsets.US_ASCII);
    private static final double[] POWERS = new double[23];

    static {
        double p = 1;
        for (int i = 0; i < POWERS.length; i++) {
            POWERS[i] = p;
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
    private double[] values = new double[64];
    private int count;

    private JsonRows(byte[] body) {
        this.b = body;
    }

    /** The body as the feed of {@code port}, or null when the general path must read it. */
    static Feeds.Feed read(byte[] body, Port port) {
        boolean fp32 = port.datatype().equals("FP32");
        if (!fp32 && !port.datatype().equals("FP64") || port.shape().length != 2 || body == null) {
            return null;
        }
        JsonRows reader = new JsonRows(body);
        long[] shape;
        try {
            shape = reader.rows();
        } catch (NotFast | ArrayIndexOutOfBoundsException e) {
            return null;
        }
        long[] graph = port.shape();
        for (int d = 0; d < 2; d++) {
            if (graph[d] != -1 && graph[d] != shape[d]) {
                return null;
            }
        }
        if (!fp32) {
            return new Feeds.Feed(port, shape, Arrays.copyOf(reader.values, reader.count));
        }
        float[] floats = new float[reader.count];
        for (int k = 0; k < floats.length; k++) {
            floats[k] = (float) reader.values[k];
        }
        return new Feeds.Feed(port, shape, floats);
    }

    /** Reads the whole body; answers {rows, width}. */
    private long[] rows() throws NotFast {
        expect('{');
        skipSpace();
        for (byte k : KEY) {
            if (b[i++] != k) {
                throw NOT_FAST;
            }
        }
        expect(':');
        expect('[');
        int rows = 0;
        int width = -1;
        while (true) {
            expect('[');
            int before = count;
            skipSpace();
            if (b[i] == ']') {
                throw NOT_FAST; // an empty row: the general path says what a row must be
            }
            while (true) {
                skipSpace();
                add(number());
                skipSpace();
                byte c = b[i++];
                if (c == ']') {
                    break;
                }
                if (c != ',') {
                    throw NOT_FAST;
                }
            }
            int n = count - before;
            if (width == -1) {
                width = n;
            } else if (n != width) {
                throw NOT_FAST;
            }
            rows++;
            skipSpace();
            byte c = b[i++];
            if (c == ']') {
                break;
            }
            if (c != ',') {
                throw NOT_FAST;
            }
        }
        expect('}');
        skipSpace();
        if (i != b.length) {
            throw NOT_FAST;
        }
        return new long[] {rows, width};
    }

    private void add(double v) {
        if (count == values.length) {
            values = Arrays.copyOf(values, count * 2);
        }
        values[count++] = v;
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

    /** One JSON number, as {@code Double.parseDouble} reads it. */
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
                // a whole number past 18 digits: the server's parser decides (it refuses one beyond a long)
                throw NOT_FAST;
            }
            // as the server's parser reads it: a long, so "-0" is 0
            return negative ? -mantissa : mantissa;
        }
        if (!exact || mantissa >= (1L << 53) || exponent < -22 || exponent > 22) {
            // the sign is in the text
            return Double.parseDouble(new String(b, start, i - start, StandardCharsets.US_ASCII));
        }
        double value = exponent < 0 ? mantissa / POWERS[-exponent] : mantissa * POWERS[exponent];
        return negative ? -value : value;
    }
}
