package deployer.http;

import com.fasterxml.jackson.core.JsonGenerator;
import deployer.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
        if (!(value instanceof Map<?, ?> outputs) || outputs.isEmpty()) {
            return null;
        }
        for (Object tensor : outputs.values()) {
            if (!(tensor instanceof Map<?, ?> t) || t.size() != 3 || !(t.get("shape") instanceof long[])
                    || !(t.get("datatype") instanceof String) || !primitive(t.get("data"))) {
                return null;
            }
        }
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
                g.writeFieldName("data");
                data(g, t.get("data"));
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
