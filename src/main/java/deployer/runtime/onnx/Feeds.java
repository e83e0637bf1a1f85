package deployer.runtime.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a request into the graph's inputs, checked against the graph: a name for every input, the graph's rank and
 * fixed dimensions, and values that convert to the input's element type without loss. Every fault is an
 * {@link IllegalArgumentException} naming the tensor (the client gets a 400 with its message).
 *
 * <p>The forms (DESIGN 1.9): {@code {"instances": [row, …]}} for a graph with one input;
 * {@code {"inputs": {"name": rows, …}}}; and the Open Inference Protocol's tensors, which reach a model as
 * {@code {"name": {"shape", "datatype", "data"}, …}} with {@code data} flat in row-major order.
 */
final class Feeds {

    /** One input ready to become a tensor: its values flat, as {@code float[]}, {@code long[]} … or {@code String[]}. */
    record Feed(Port port, long[] shape, Object data) {
    }

    private static final Set<String> NUMERIC = Set.of("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64",
            "UINT8", "UINT16", "UINT32", "UINT64");

    private final List<Port> inputs;

    Feeds(List<Port> inputs) {
        this.inputs = inputs;
    }

    /** The JSON forms: {@code {"instances": [...]}} or {@code {"inputs": {"name": rows}}}. */
    List<Feed> fromJson(Object json) {
        if (json instanceof Map<?, ?> body && body.size() == 1 && body.get("instances") instanceof List<?> rows) {
            if (inputs.size() != 1) {
                throw new IllegalArgumentException("this graph has " + inputs.size() + " inputs (" + names()
                        + "); send {\"inputs\": {\"name\": rows, …}} naming each, not {\"instances\": …}");
            }
            return List.of(rows(inputs.get(0), rows, "instances"));
        }
        if (json instanceof Map<?, ?> body && body.size() == 1 && body.get("inputs") instanceof Map<?, ?> named) {
            checkNames(named.keySet(), "inputs");
            List<Feed> feeds = new ArrayList<>();
            for (Port port : inputs) {
                if (!(named.get(port.name()) instanceof List<?> rows)) {
                    throw new IllegalArgumentException("inputs." + port.name() + " must be an array of rows");
                }
                feeds.add(rows(port, rows, "input " + port.name()));
            }
            return feeds;
        }
        throw new IllegalArgumentException("expected {\"instances\": [row, …]} (a graph with one input) or"
                + " {\"inputs\": {\"name\": [row, …]}}; this graph's inputs: " + names());
    }

    /** The protocol's tensors, as {@code {"name": {"shape", "datatype", "data"}}}, data flat. */
    List<Feed> fromTensors(Map<?, ?> tensors) {
        checkNames(tensors.keySet(), "inputs");
        List<Feed> feeds = new ArrayList<>();
        for (Port port : inputs) {
            Map<?, ?> tensor = (Map<?, ?>) tensors.get(port.name());
            String at = "input " + port.name();
            long[] shape = shape(tensor.get("shape"), at);
            Object raw = tensor.get("data");
            String given = (String) tensor.get("datatype");
            int size = raw instanceof double[] numbers ? numbers.length : ((List<?>) raw).size();
            if (product(shape) != size) {
                throw new IllegalArgumentException(at + ": shape " + Arrays.toString(shape) + " holds "
                        + product(shape) + " values, but data has " + size);
            }
            checkShape(port, shape, at);
            feeds.add(new Feed(port, shape, raw instanceof double[] numbers ? convert(port, numbers, given, at)
                    : convert(port, (List<?>) raw, given, at)));
        }
        return feeds;
    }

    private Feed rows(Port port, List<?> rows, String at) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(at + ": give at least one row");
        }
        List<Long> dims = new ArrayList<>();
        dims.add((long) rows.size());
        for (Object level = rows.get(0); level instanceof List<?> list; level = list.isEmpty() ? null : list.get(0)) {
            dims.add((long) list.size());
        }
        // A column of scalars for an input of shape [-1, 1] (one string or number per row) is what people send.
        if (dims.size() + 1 == port.shape().length && port.shape()[port.shape().length - 1] == 1) {
            dims.add(1L);
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        checkShape(port, shape, at);
        List<Object> flat = new ArrayList<>((int) Math.min(product(shape), 1 << 20));
        flatten(rows, shape, 0, flat, at);
        return new Feed(port, shape, convert(port, flat, null, at));
    }

    /** Flattens nested rows row-major, checking that every row has the shape of the first. */
    private static void flatten(Object value, long[] shape, int depth, List<Object> into, String at) {
        boolean leaf = depth == shape.length || (depth == shape.length - 1 && shape[depth] == 1
                && !(value instanceof List<?>));
        if (leaf) {
            if (value instanceof List<?>) {
                throw new IllegalArgumentException(at + ": rows are nested deeper than the first row");
            }
            into.add(value);
            return;
        }
        if (!(value instanceof List<?> list) || list.size() != shape[depth]) {
            throw new IllegalArgumentException(at + ": every row must have the shape of the first, "
                    + Arrays.toString(Arrays.copyOfRange(shape, 1, shape.length)) + "; found "
                    + (value instanceof List<?> l ? "an array of " + l.size() : show(value)) + " at depth " + depth);
        }
        for (Object item : list) {
            flatten(item, shape, depth + 1, into, at);
        }
    }

    private void checkNames(Set<?> given, String field) {
        for (Object name : given) {
            if (inputs.stream().noneMatch(p -> p.name().equals(name))) {
                throw new IllegalArgumentException(field + ": the graph has no input " + show(name) + "; its inputs: "
                        + names());
            }
        }
        for (Port port : inputs) {
            if (!given.contains(port.name())) {
                throw new IllegalArgumentException(field + ": input " + port.name() + " (" + port.datatype() + " "
                        + Arrays.toString(port.shape()) + ") is missing; the graph needs " + names());
            }
        }
    }

    private static void checkShape(Port port, long[] shape, String at) {
        long[] graph = port.shape();
        boolean fits = graph.length == shape.length;
        for (int i = 0; fits && i < shape.length; i++) {
            fits = graph[i] == -1 || graph[i] == shape[i];
        }
        if (!fits) {
            throw new IllegalArgumentException(at + ": shape " + Arrays.toString(shape) + " does not fit the graph's "
                    + Arrays.toString(graph) + " (-1 is any size)");
        }
    }

    /**
     * FP32/FP64 data the server read straight into a {@code double[]} (an infer for a no-code runtime): the same
     * conversion as the boxed values get.
     */
    private static Object convert(Port port, double[] values, String given, String at) {
        if (port.datatype().equals("FP64") && "FP64".equals(given)) {
            return values;
        }
        if (port.datatype().equals("FP32")) {
            float[] out = new float[values.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) values[i];
            }
            return out;
        }
        List<Object> boxed = new ArrayList<>(values.length);
        for (double v : values) {
            boxed.add(v);
        }
        return convert(port, boxed, given, at);
    }

    /** Converts the values into the input's element type where no value changes; a 400 naming the tensor otherwise. */
    private static Object convert(Port port, List<?> values, String given, String at) {
        String want = port.datatype();
        if (given != null) {
            boolean compatible = given.equals(want) || (NUMERIC.contains(given) && NUMERIC.contains(want));
            if (!compatible) {
                throw new IllegalArgumentException(at + ": datatype " + given + " does not convert to the graph's "
                        + want + (given.equals("BYTES") || given.equals("BOOL") ? " (" + given + " never becomes a"
                        + " number)" : ""));
            }
        }
        int n = values.size();
        switch (want) {
            case "FP32" -> {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (float) number(values.get(i), at, i, want).doubleValue();
                }
                return out;
            }
            case "FP64" -> {
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = number(values.get(i), at, i, want).doubleValue();
                }
                return out;
            }
            case "INT64" -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = whole(values.get(i), at, i, want, Long.MIN_VALUE, Long.MAX_VALUE);
                }
                return out;
            }
            case "INT32" -> {
                int[] out = new int[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (int) whole(values.get(i), at, i, want, Integer.MIN_VALUE, Integer.MAX_VALUE);
                }
                return out;
            }
            case "BOOL" -> {
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) {
                    if (!(values.get(i) instanceof Boolean b)) {
                        throw new IllegalArgumentException(at + ": value " + i + " is " + show(values.get(i))
                                + "; the graph's BOOL input takes true or false only");
                    }
                    out[i] = b;
                }
                return out;
            }
            case "BYTES" -> {
                String[] out = new String[n];
                for (int i = 0; i < n; i++) {
                    if (!(values.get(i) instanceof String s)) {
                        throw new IllegalArgumentException(at + ": value " + i + " is " + show(values.get(i))
                                + "; the graph's BYTES (string) input takes strings only");
                    }
                    out[i] = s;
                }
                return out;
            }
            default -> throw new IllegalStateException("input " + port.name() + " has element type " + want);
        }
    }

    private static Number number(Object value, String at, int i, String want) {
        if (!(value instanceof Number number) || value instanceof Boolean) {
            throw new IllegalArgumentException(at + ": value " + i + " is " + show(value) + "; the graph's " + want
                    + " input takes numbers only");
        }
        return number;
    }

    private static long whole(Object value, String at, int i, String want, long min, long max) {
        Number number = number(value, at, i, want);
        if (number instanceof Long || number instanceof Integer || number instanceof Short || number instanceof Byte) {
            long v = number.longValue();
            if (v < min || v > max) {
                throw new IllegalArgumentException(at + ": value " + i + " (" + v + ") is out of " + want + "'s range");
            }
            return v;
        }
        double d = number.doubleValue();
        if (d != Math.rint(d) || d < min || d > max) {
            throw new IllegalArgumentException(at + ": value " + i + " (" + d + ") is not a whole number in " + want
                    + "'s range, so it does not convert without loss");
        }
        return (long) d;
    }

    private static long[] shape(Object shape, String at) {
        if (!(shape instanceof List<?> dims)) {
            throw new IllegalArgumentException(at + ": shape must be an array of whole numbers");
        }
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(dims.get(i) instanceof Number n) || n.longValue() < 0) {
                throw new IllegalArgumentException(at + ": shape must be an array of whole numbers ≥ 0");
            }
            out[i] = n.longValue();
        }
        return out;
    }

    static long product(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return p;
    }

    private String names() {
        Map<String, String> shown = new LinkedHashMap<>();
        inputs.forEach(p -> shown.put(p.name(), p.datatype() + " " + Arrays.toString(p.shape())));
        return shown.toString();
    }

    private static String show(Object value) {
        if (value instanceof String s) {
            return "\"" + (s.length() > 40 ? s.substring(0, 37) + "..." : s) + "\"";
        }
        return String.valueOf(value);
    }
}
