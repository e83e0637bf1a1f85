package deployer.http;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's JSON value as the server's parser would read it back: objects as maps with string keys, arrays as lists,
 * whole numbers as {@code Long}, others as {@code Double}. Walking the value costs a fraction of writing it and
 * parsing it again (what the Open Inference Protocol route did per request).
 */
final class JsonTypes {

    /** Marks a value that holds a type this walk does not know; the caller parses the bytes instead. */
    private static final Object UNKNOWN = new Object();

    private JsonTypes() {
    }

    /** {@code value} in the JSON types; null when it holds anything else (or is null). */
    static Object of(Object value) {
        if (value == null) {
            return null;
        }
        Object converted = convert(value);
        return converted == UNKNOWN ? null : converted;
    }

    private static Object convert(Object value) {
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Long
                || value instanceof Double) {
            return value;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Float f) {
            return Double.valueOf(f.toString()); // as Jackson writes it: 1.1f is 1.1, not 1.100000023841858
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>(Math.max(4, map.size() * 2));
            for (Map.Entry<?, ?> e : map.entrySet()) {
                Object v = convert(e.getValue());
                if (!(e.getKey() instanceof String key) || v == UNKNOWN) {
                    return UNKNOWN;
                }
                out.put(key, v);
            }
            return out;
        }
        if (value instanceof Collection<?> items) {
            List<Object> out = new ArrayList<>(items.size());
            for (Object item : items) {
                Object v = convert(item);
                if (v == UNKNOWN) {
                    return UNKNOWN;
                }
                out.add(v);
            }
            return out;
        }
        if (value instanceof double[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (double d : a) {
                out.add(d);
            }
            return out;
        }
        if (value instanceof float[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (float f : a) {
                out.add(Double.valueOf(Float.toString(f)));
            }
            return out;
        }
        if (value instanceof long[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (long l : a) {
                out.add(l);
            }
            return out;
        }
        if (value instanceof int[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (int i : a) {
                out.add((long) i);
            }
            return out;
        }
        if (value instanceof Object[] a) {
            return convert(java.util.Arrays.asList(a));
        }
        return UNKNOWN;
    }
}
