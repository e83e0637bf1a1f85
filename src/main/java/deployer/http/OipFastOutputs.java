package deployer.http;

import com.fasterxml.jackson.core.JsonGenerator;
import deployer.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * The answer of an {@code infer} written straight from a no-code runtime's typed outputs ({@code {"name": {"shape":
 * long[], "datatype", "data": float[] …}}}) with a streaming generator: the same JSON as {@link OipOutputs#outputs}
 * then {@code Json.write} make of them, without turning every value into a boxed list first. Anything else (an
 * output with {@code parameters}, data that is not a primitive array) answers null, for the general path.
 */
final class OipFastOutputs {

    private OipFastOutputs() {
    }

    static byte[] write(String model, int version, String id, Object value) {
        if (!fits(value, false)) {
            return null;
        }
        return write(model, version, id, (Map<?, ?>) value, null);
    }

    /**
     * The same answer with every output as binary tensor data ({@link OipBinary}): the JSON names each output's
     * {@code binary_data_size}, and the arrays' bytes follow it. Null when an output's array is not of its datatype.
     */
    static OipBinary.Answer writeBinary(String model, int version, String id, Object value) {
        if (!fits(value, true)) {
            return null;
        }
        Map<?, ?> outputs = (Map<?, ?>) value;
        ByteBuffer tail = ByteBuffer.allocate(outputs.values().stream().mapToInt(t -> bytes(((Map<?, ?>) t)
                .get("data"))).sum()).order(ByteOrder.LITTLE_ENDIAN);
        for (Object t : outputs.values()) {
            Object data = ((Map<?, ?>) t).get("data");
            if (data instanceof float[] f) {
                tail.asFloatBuffer().put(f);
            } else if (data instanceof double[] d) {
                tail.asDoubleBuffer().put(d);
            } else if (data instanceof long[] l) {
                tail.asLongBuffer().put(l);
            } else {
                tail.asIntBuffer().put((int[]) data);
            }
            tail.position(tail.position() + bytes(data));
        }
        byte[] json = write(model, version, id, outputs, tail);
        if (json == null) {
            return null;
        }
        byte[] body = java.util.Arrays.copyOf(json, json.length + tail.capacity());
        System.arraycopy(tail.array(), 0, body, json.length, tail.capacity());
        return new OipBinary.Answer(body, json.length);
    }

    private static boolean fits(Object value, boolean binary) {
        if (!(value instanceof Map<?, ?> outputs) || outputs.isEmpty()) {
            return false;
        }
        for (Object tensor : outputs.values()) {
            if (!(tensor instanceof Map<?, ?> t) || t.size() != 3 || !(t.get("shape") instanceof long[])
                    || !(t.get("datatype") instanceof String type) || !primitive(t.get("data"))) {
                return false;
            }
            Object data = t.get("data");
            if (binary && !(type.equals("FP32") && data instanceof float[] || type.equals("FP64")
                    && data instanceof double[] || type.equals("INT64") && data instanceof long[]
                    || type.equals("INT32") && data instanceof int[])) {
                return false;
            }
        }
        return true;
    }

    private static int bytes(Object data) {
        if (data instanceof float[] f) {
            return f.length * 4;
        } else if (data instanceof double[] d) {
            return d.length * 8;
        } else if (data instanceof long[] l) {
            return l.length * 8;
        }
        return ((int[]) data).length * 4;
    }

    /** The answer's JSON: each output's data, or with {@code binary} (its bytes already laid out) their sizes. */
    private static byte[] write(String model, int version, String id, Map<?, ?> outputs, ByteBuffer binary) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (JsonGenerator g = Json.mapper().getFactory().createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("model_name", model);
            g.writeStringField("model_version", Integer.toString(version));
            if (id != null) {
                g.writeStringField("id", id);
            }
            g.writeArrayFieldStart("outputs");
            for (Map.Entry<?, ?> e : outputs.entrySet()) {
                Map<?, ?> t = (Map<?, ?>) e.getValue();
                g.writeStartObject();
                g.writeStringField("name", String.valueOf(e.getKey()));
                long[] shape = (long[]) t.get("shape");
                g.writeFieldName("shape");
                g.writeArray(shape, 0, shape.length);
                g.writeStringField("datatype", (String) t.get("datatype"));
                if (binary != null) {
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", bytes(t.get("data")));
                    g.writeEndObject();
                } else {
                    g.writeFieldName("data");
                    data(g, t.get("data"));
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            return null;
        }
        return bytes.toByteArray();
    }

    private static boolean primitive(Object data) {
        return data instanceof float[] || data instanceof double[] || data instanceof long[] || data instanceof int[];
    }

    private static void data(JsonGenerator g, Object data) throws IOException {
        if (data instanceof float[] f) {
            g.writeStartArray();
            for (float v : f) {
                g.writeNumber(v);
            }
            g.writeEndArray();
        } else if (data instanceof double[] d) {
            g.writeArray(d, 0, d.length);
        } else if (data instanceof long[] l) {
            g.writeArray(l, 0, l.length);
        } else {
            int[] i = (int[]) data;
            g.writeArray(i, 0, i.length);
        }
    }
}
