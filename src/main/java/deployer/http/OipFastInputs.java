package deployer.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import deployer.core.Json;
import deployer.pack.Manifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An inference request of FP32/FP64 tensors read in one streaming pass, for a no-code runtime: each input's data
 * goes straight into a {@code double[]} (which the runtime turns into its tensor) instead of a JSON tree of boxed
 * numbers that {@link OipOutputs#namedInputs} copies again. Anything this reader does not take plainly — another
 * datatype, {@code parameters}, {@code outputs}, a malformed field, a number past a {@code long} — answers null, and
 * the general path reads the body (and says what is wrong with it), so both paths give the model the same values.
 */
final class OipFastInputs {

    /** What was read: the named inputs as the model gets them, and the request's {@code id} (or null). */
    record Read(Map<String, Object> inputs, String id) {
    }

    private OipFastInputs() {
    }

    static Read read(byte[] body) {
        try (JsonParser p = Json.mapper().getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            Map<String, Object> inputs = null;
            String id = null;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "inputs" -> {
                        if (inputs != null || value != JsonToken.START_ARRAY) {
                            return null;
                        }
                        inputs = inputs(p);
                        if (inputs == null) {
                            return null;
                        }
                    }
                    case "id" -> {
                        if (value == JsonToken.VALUE_STRING) {
                            id = p.getText();
                        } else if (value != JsonToken.VALUE_NULL) {
                            return null;
                        }
                    }
                    case "outputs" -> {
                        return null;
                    }
                    default -> p.skipChildren();
                }
            }
            if (p.nextToken() != null || inputs == null || inputs.isEmpty()) {
                return null;
            }
            return new Read(inputs, id);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Map<String, Object> inputs(JsonParser p) throws IOException {
        Map<String, Object> named = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.START_OBJECT) {
            String name = null;
            List<Object> shape = null;
            String datatype = null;
            double[] data = null;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "name" -> {
                        if (value != JsonToken.VALUE_STRING) {
                            return null;
                        }
                        name = p.getText();
                    }
                    case "shape" -> {
                        shape = shape(p, value);
                        if (shape == null) {
                            return null;
                        }
                    }
                    case "datatype" -> {
                        if (value != JsonToken.VALUE_STRING) {
                            return null;
                        }
                        datatype = p.getText();
                    }
                    case "data" -> {
                        if (value != JsonToken.START_ARRAY) {
                            return null;
                        }
                        data = numbers(p);
                        if (data == null) {
                            return null;
                        }
                    }
                    default -> {
                        return null; // parameters, or a field the general path may refuse
                    }
                }
            }
            if (name == null || name.isEmpty() || shape == null || data == null
                    || !("FP32".equals(datatype) || "FP64".equals(datatype)) || !Manifest.DATATYPES.contains(datatype)
                    || named.containsKey(name)) {
                return null;
            }
            Map<String, Object> tensor = new LinkedHashMap<>();
            tensor.put("shape", shape);
            tensor.put("datatype", datatype);
            tensor.put("data", data);
            named.put(name, tensor);
        }
        return p.currentToken() == JsonToken.END_ARRAY ? named : null;
    }

    private static List<Object> shape(JsonParser p, JsonToken value) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            return null;
        }
        List<Object> shape = new ArrayList<>(4);
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                return null;
            }
            shape.add(p.getLongValue());
        }
        return shape;
    }

    /** The numbers of a (possibly nested) array, flat, row-major; null for anything but numbers. */
    private static double[] numbers(JsonParser p) throws IOException {
        double[] out = new double[16];
        int n = 0;
        int depth = 1;
        while (depth > 0) {
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_ARRAY) {
                depth++;
            } else if (t == JsonToken.END_ARRAY) {
                depth--;
            } else if (t == JsonToken.VALUE_NUMBER_FLOAT || (t == JsonToken.VALUE_NUMBER_INT
                    && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER)) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = t == JsonToken.VALUE_NUMBER_INT ? (double) p.getLongValue() : p.getDoubleValue();
            } else {
                return null;
            }
        }
        return Arrays.copyOf(out, n);
    }
}
