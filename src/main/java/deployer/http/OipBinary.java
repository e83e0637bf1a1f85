package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Open Inference Protocol's binary tensor data extension, as Triton and KServe define it and as
 * {@code tritonclient}'s HTTP client speaks it by default ({@code set_data_from_numpy}, {@code InferRequestedOutput}
 * with {@code binary_data=True}): the request's JSON is followed by raw tensor bytes, the JSON's length in the
 * header {@code Inference-Header-Content-Length}, and each input sent that way names its byte count in
 * {@code parameters.binary_data_size} instead of {@code data}. The answer is written the same way for the outputs
 * asked for with {@code parameters.binary_data: true}, or for all of them with the request's
 * {@code parameters.binary_data_output: true}. Bytes are little-endian and row-major; a BOOL is one byte (0 or 1); a
 * BYTES element is a 4-byte length and then its bytes (UTF-8 text, as models get BYTES as strings).
 *
 * <p>Every fault — a header that is not a length within the body, sizes that do not add up to the bytes sent or do
 * not fit the shape and datatype, a BOOL byte other than 0 or 1 — is a 400 naming the tensor.
 */
final class OipBinary {

    /** The request and answer header giving the length of the JSON part (lower case, as the exchange has them). */
    static final String HEADER = "inference-header-content-length";
    /** The same, as it is written on an answer. */
    static final String ANSWER_HEADER = "Inference-Header-Content-Length";

    private OipBinary() {
    }

    /**
     * The length of the JSON part of a body, from the header; -1 when the request has no such header (the whole
     * body is JSON).
     */
    static int jsonLength(Map<String, List<String>> headers, int bodyLength) {
        List<String> given = headers.get(HEADER);
        if (given == null || given.isEmpty()) {
            return -1;
        }
        String text = given.get(0).strip();
        long length;
        try {
            length = Long.parseLong(text);
        } catch (NumberFormatException e) {
            length = -1;
        }
        if (given.size() > 1 || length < 0 || length > bodyLength) {
            throw DeployerException.badRequest("the header Inference-Header-Content-Length must give the length of"
                    + " the request's JSON, a whole number from 0 to the body's " + bodyLength + " bytes, not "
                    + Json.writeString(String.join(", ", given)));
        }
        return (int) length;
    }

    /**
     * Gives each input sent as binary ({@code parameters.binary_data_size}) its {@code data}, read in order from
     * {@code body} after {@code offset}: as {@code double[]} for FP32/FP64 when {@code primitive} (what a no-code
     * runtime reads), otherwise as a list of the values the JSON form would have given (numbers, booleans,
     * strings). The byte counts must add up to the bytes after the JSON exactly.
     */
    static void readInputs(Object inputs, byte[] body, int offset, boolean primitive) {
        if (!(inputs instanceof List<?> list)) {
            return; // the request's own check names what "inputs" must be
        }
        ByteBuffer bytes = ByteBuffer.wrap(body, offset, body.length - offset).slice().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> raw) || !(raw.get("parameters") instanceof Map<?, ?> parameters)
                    || parameters.get("binary_data_size") == null) {
                continue;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> input = (Map<String, Object>) raw;
            String at = "input " + (input.get("name") instanceof String name ? Json.writeString(name)
                    : "inputs[" + i + "]");
            if (!(parameters.get("binary_data_size") instanceof Long size) || size < 0) {
                throw DeployerException.badRequest(at + ": parameters.binary_data_size must be a whole number of"
                        + " bytes ≥ 0");
            }
            if (input.containsKey("data")) {
                throw DeployerException.badRequest(at + " gives both \"data\" and parameters.binary_data_size;"
                        + " send its values one way");
            }
            if (size > bytes.remaining()) {
                throw DeployerException.badRequest(at + ": parameters.binary_data_size is " + size + " bytes, but "
                        + bytes.remaining() + " are left after the JSON (Inference-Header-Content-Length)");
            }
            ByteBuffer tensor = bytes.slice(bytes.position(), size.intValue()).order(ByteOrder.LITTLE_ENDIAN);
            bytes.position(bytes.position() + size.intValue());
            input.put("data", decode(at, input.get("datatype"), count(input.get("shape")), tensor, primitive));
            Map<String, Object> rest = new LinkedHashMap<>();
            parameters.forEach((k, v) -> {
                if (!"binary_data_size".equals(k)) {
                    rest.put(String.valueOf(k), v);
                }
            });
            if (rest.isEmpty()) {
                input.remove("parameters");
            } else {
                input.put("parameters", rest);
            }
        }
        if (bytes.hasRemaining()) {
            throw DeployerException.badRequest(bytes.remaining() + " bytes follow the request's JSON that no"
                    + " input's parameters.binary_data_size accounts for");
        }
    }

    /** The number of values a shape holds, or -1 when it is not a shape (the request's check says so). */
    private static long count(Object shape) {
        if (!(shape instanceof List<?> dims)) {
            return -1;
        }
        long n = 1;
        for (Object d : dims) {
            if (!(d instanceof Long dim) || dim < 0) {
                return -1;
            }
            n = Math.multiplyHigh(n, dim) != 0 ? Long.MAX_VALUE : n * dim;
        }
        return n;
    }

    private static Object decode(String at, Object datatype, long count, ByteBuffer b, boolean primitive) {
        if (!(datatype instanceof String type)) {
            throw DeployerException.badRequest(at + ": a binary tensor needs its datatype");
        }
        if (type.equals("BYTES")) {
            return strings(at, count, b);
        }
        int width = width(at, type);
        if (count < 0 || count > Integer.MAX_VALUE || count * width != b.remaining()) {
            throw DeployerException.badRequest(at + ": parameters.binary_data_size is " + b.remaining() + " bytes,"
                    + " but " + (count < 0 ? "its shape is not an array of whole numbers"
                    : "shape " + count + " values of " + type + " take " + count * width) + " bytes");
        }
        int n = (int) count;
        if (primitive && (type.equals("FP32") || type.equals("FP64"))) {
            double[] values = new double[n];
            for (int k = 0; k < n; k++) {
                values[k] = type.equals("FP32") ? b.getFloat() : b.getDouble();
            }
            return values;
        }
        List<Object> values = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            values.add(switch (type) {
                case "BOOL" -> {
                    byte v = b.get();
                    if (v != 0 && v != 1) {
                        throw DeployerException.badRequest(at + ": BOOL value " + k + " is the byte " + v
                                + "; a BOOL is 0 or 1");
                    }
                    yield v == 1;
                }
                case "INT8" -> (long) b.get();
                case "UINT8" -> (long) (b.get() & 0xff);
                case "INT16" -> (long) b.getShort();
                case "UINT16" -> (long) (b.getShort() & 0xffff);
                case "INT32" -> (long) b.getInt();
                case "UINT32" -> b.getInt() & 0xffffffffL;
                case "INT64" -> b.getLong();
                case "UINT64" -> {
                    long v = b.getLong();
                    yield v >= 0 ? (Object) v : new BigInteger(Long.toUnsignedString(v));
                }
                case "FP16" -> (double) halfToFloat(b.getShort());
                case "FP32" -> (double) b.getFloat();
                default -> b.getDouble(); // FP64
            });
        }
        return values;
    }

    /** BYTES: each element a 4-byte little-endian length, then that many bytes of UTF-8 text. */
    private static List<Object> strings(String at, long count, ByteBuffer b) {
        List<Object> values = new ArrayList<>();
        var utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        while (b.hasRemaining()) {
            int k = values.size();
            if (b.remaining() < 4) {
                throw DeployerException.badRequest(at + ": BYTES element " + k + " is cut short: " + b.remaining()
                        + " byte(s) where its 4-byte length should be");
            }
            long length = b.getInt() & 0xffffffffL;
            if (length > b.remaining()) {
                throw DeployerException.badRequest(at + ": BYTES element " + k + " says " + length + " bytes, but "
                        + b.remaining() + " are left of the tensor's parameters.binary_data_size");
            }
            ByteBuffer element = b.slice(b.position(), (int) length);
            b.position(b.position() + (int) length);
            try {
                values.add(utf8.decode(element).toString());
            } catch (CharacterCodingException e) {
                throw DeployerException.badRequest(at + ": BYTES element " + k + " is not UTF-8 text; models get"
                        + " BYTES as strings (send binary as base64 text)");
            }
        }
        if (count >= 0 && values.size() != count) {
            throw DeployerException.badRequest(at + ": its shape holds " + count + " values, but its"
                    + " parameters.binary_data_size bytes hold " + values.size() + " BYTES elements");
        }
        return values;
    }

    private static int width(String at, String type) {
        return switch (type) {
            case "BOOL", "INT8", "UINT8" -> 1;
            case "INT16", "UINT16", "FP16" -> 2;
            case "INT32", "UINT32", "FP32" -> 4;
            case "INT64", "UINT64", "FP64" -> 8;
            default -> throw DeployerException.badRequest(at + ": datatype " + Json.writeString(type) + " is not one"
                    + " of the protocol's");
        };
    }

    /** IEEE 754 half precision to float (the JDK has {@code Float.float16ToFloat} only from Java 20). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // infinity or NaN
        }
        if (exponent == 0) {
            // zero or subnormal: mantissa × 2^-24, exact in a float
            float value = mantissa * 0x1p-24f;
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** Whether the request asks for output {@code name} as binary. */
    static boolean wantsBinary(Map<String, Object> request, String name) {
        if (request.get("outputs") instanceof List<?> outputs) {
            for (Object o : outputs) {
                if (o instanceof Map<?, ?> output && name.equals(output.get("name"))
                        && output.get("parameters") instanceof Map<?, ?> p && p.get("binary_data") != null) {
                    return Boolean.TRUE.equals(p.get("binary_data"));
                }
            }
        }
        return request.get("parameters") instanceof Map<?, ?> p && Boolean.TRUE.equals(p.get("binary_data_output"));
    }

    /** Whether any output is to be sent as binary: the request asks for all, or names one so. */
    static boolean anyBinary(Map<String, Object> request) {
        if (request.get("parameters") instanceof Map<?, ?> p && Boolean.TRUE.equals(p.get("binary_data_output"))) {
            return true;
        }
        if (request.get("outputs") instanceof List<?> outputs) {
            for (Object o : outputs) {
                if (o instanceof Map<?, ?> output && output.get("parameters") instanceof Map<?, ?> p
                        && Boolean.TRUE.equals(p.get("binary_data"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** An answer whose JSON part is {@code jsonLength} bytes, then the outputs' bytes. */
    record Answer(byte[] body, int jsonLength) {

        /** As it goes to the client: the bytes, and the JSON part's length in the extension's header. */
        deployer.cell.CellResponse response() {
            return new deployer.cell.CellResponse(200, "application/octet-stream", body, null,
                    Map.of(ANSWER_HEADER, Integer.toString(jsonLength)));
        }
    }

    /**
     * Writes the answer {@code reply} ({@code model_name}, {@code outputs} …): each output the request wants as
     * binary loses its {@code data} and gains {@code parameters.binary_data_size}, its bytes written after the JSON
     * in the order of the outputs.
     */
    @SuppressWarnings("unchecked")
    static Answer write(Map<String, Object> reply, Map<String, Object> request)
            throws com.fasterxml.jackson.core.JsonProcessingException {
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        for (Map<String, Object> output : (List<Map<String, Object>>) reply.get("outputs")) {
            if (!wantsBinary(request, (String) output.get("name"))) {
                continue;
            }
            byte[] bytes = encode((String) output.get("name"), (String) output.get("datatype"),
                    (List<Object>) output.remove("data"));
            Map<String, Object> parameters = output.get("parameters") instanceof Map<?, ?> p
                    ? new LinkedHashMap<>((Map<String, Object>) p) : new LinkedHashMap<>();
            parameters.put("binary_data_size", (long) bytes.length);
            output.put("parameters", parameters);
            tail.writeBytes(bytes);
        }
        byte[] json = Json.write(reply);
        byte[] body = new byte[json.length + tail.size()];
        System.arraycopy(json, 0, body, 0, json.length);
        System.arraycopy(tail.toByteArray(), 0, body, json.length, tail.size());
        return new Answer(body, json.length);
    }

    private static byte[] encode(String name, String type, List<Object> data) {
        String at = "output " + Json.writeString(name);
        if (type.equals("BYTES")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Object v : data) {
                byte[] text = (v instanceof String s ? s : Json.writeString(v)).getBytes(StandardCharsets.UTF_8);
                out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(text.length).array());
                out.writeBytes(text);
            }
            return out.toByteArray();
        }
        int width;
        try {
            width = width(at, type);
        } catch (DeployerException e) {
            throw new DeployerException(DeployerException.Kind.INTERNAL, e.getMessage());
        }
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.size(), width)).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < data.size(); k++) {
            Object v = data.get(k);
            if (type.equals("BOOL")) {
                if (!(v instanceof Boolean flag)) {
                    throw notOfType(at, k, v, type);
                }
                b.put((byte) (flag ? 1 : 0));
                continue;
            }
            if (!(v instanceof Number n)) {
                throw notOfType(at, k, v, type);
            }
            switch (type) {
                case "INT8", "UINT8" -> b.put(n.byteValue());
                case "INT16", "UINT16" -> b.putShort(n.shortValue());
                case "INT32", "UINT32" -> b.putInt(n.intValue());
                case "INT64", "UINT64" -> b.putLong(n.longValue());
                case "FP16" -> b.putShort(floatToHalf(n.floatValue()));
                case "FP32" -> b.putFloat(n.floatValue());
                default -> b.putDouble(n.doubleValue());
            }
        }
        return b.array();
    }

    private static DeployerException notOfType(String at, int k, Object v, String type) {
        return new DeployerException(DeployerException.Kind.INTERNAL, "the model answered " + at + " as " + type
                + ", but its value " + k + " is " + Json.writeString(v) + "; it cannot be sent as binary");
    }

    /** Float to IEEE 754 half precision, rounding to nearest even. */
    static short floatToHalf(float value) {
        int bits = Float.floatToIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = bits & 0x7fffff;
        if (((bits >>> 23) & 0xff) == 0xff) {
            return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0)); // NaN or infinity
        }
        if (exponent >= 0x1f) {
            return (short) (sign | 0x7c00); // too large: infinity
        }
        if (exponent <= 0) {
            if (exponent < -10) {
                return (short) sign; // too small: zero
            }
            mantissa |= 0x800000;
            int shift = 14 - exponent;
            int half = mantissa >> shift;
            int rest = mantissa & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (half & 1) == 1)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (exponent << 10) | (mantissa >> 13);
        int rest = mantissa & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
            half++; // may carry into the exponent, which rounds up correctly (to infinity at the top)
        }
        return (short) (sign | half);
    }
}
