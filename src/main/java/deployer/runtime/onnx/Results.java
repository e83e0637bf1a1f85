package deployer.runtime.onnx;

import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's outputs, copied out of native memory, and the two answers made of them: typed tensors for the Open
 * Inference Protocol, or {@code {"predictions": [...]}} for JSON (DESIGN 1.9). Values stay primitive arrays
 * ({@code float[]} …), which the server writes as JSON arrays, so an FP32 prints as the float it is.
 */
final class Results {

    /**
     * One output's values.
     *
     * @param port the graph's description of it
     * @param shape its dimensions in this run
     * @param data flat row-major: {@code float[]}, {@code double[]}, {@code long[]}, {@code int[]},
     *     {@code boolean[]} or {@code String[]}; for a sequence of maps, a {@code List<Map<String, Object>>}
     */
    record Output(Port port, long[] shape, Object data) {
    }

    private Results() {
    }

    /** Copies each output out of the result (which the caller then closes). */
    static List<Output> read(OrtSession.Result result, List<Port> ports) throws OrtException {
        List<Output> outputs = new ArrayList<>(ports.size());
        for (Port port : ports) {
            OnnxValue value = result.get(port.name()).orElseThrow(
                    () -> new IllegalStateException("the run gave no output " + port.name()));
            if (value instanceof OnnxSequence sequence) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (OnnxValue item : sequence.getValue()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    ((OnnxMap) item).getValue().forEach((k, v) -> row.put(String.valueOf(k), v));
                    rows.add(row);
                }
                outputs.add(new Output(port, new long[] {rows.size()}, rows));
            } else if (value instanceof OnnxTensor tensor) {
                outputs.add(new Output(port, tensor.getInfo().getShape(), flat(tensor)));
            } else {
                throw new IllegalStateException("output " + port.name() + " is a " + value.getType()
                        + ", which runtime onnx does not answer");
            }
        }
        return outputs;
    }

    private static Object flat(OnnxTensor tensor) throws OrtException {
        switch (tensor.getInfo().onnxType) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> {
                float[] out = new float[(int) tensor.getInfo().getNumElements()];
                tensor.getFloatBuffer().get(out);
                return out;
            }
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> {
                double[] out = new double[(int) tensor.getInfo().getNumElements()];
                tensor.getDoubleBuffer().get(out);
                return out;
            }
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> {
                long[] out = new long[(int) tensor.getInfo().getNumElements()];
                tensor.getLongBuffer().get(out);
                return out;
            }
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> {
                int[] out = new int[(int) tensor.getInfo().getNumElements()];
                tensor.getIntBuffer().get(out);
                return out;
            }
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> {
                ByteBuffer bytes = tensor.getByteBuffer();
                boolean[] out = new boolean[bytes.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = bytes.get(i) != 0;
                }
                return out;
            }
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8, ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> {
                ByteBuffer bytes = tensor.getByteBuffer();
                boolean unsigned = tensor.getInfo().onnxType
                        == ai.onnxruntime.TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
                int[] out = new int[bytes.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = unsigned ? bytes.get(i) & 0xff : bytes.get(i);
                }
                return out;
            }
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> {
                List<String> out = new ArrayList<>();
                flattenArray(tensor.getValue(), out);
                return out.toArray(String[]::new);
            }
            default -> throw new IllegalStateException("output of element type " + tensor.getInfo().onnxType
                    + " is not answered by runtime onnx");
        }
    }

    private static void flattenArray(Object value, List<String> into) {
        if (value != null && value.getClass().isArray()) {
            for (int i = 0, n = Array.getLength(value); i < n; i++) {
                flattenArray(Array.get(value, i), into);
            }
        } else {
            into.add((String) value);
        }
    }

    /**
     * The protocol's outputs, by name: {@code {"shape", "datatype", "data"}} each. A sequence of maps becomes the
     * [rows, classes] tensor of its values, the classes (the maps' keys, in order) in its {@code parameters}.
     */
    static Map<String, Object> tensors(List<Output> outputs) {
        Map<String, Object> byName = new LinkedHashMap<>();
        for (Output output : outputs) {
            Map<String, Object> tensor = new LinkedHashMap<>();
            if (output.port().mapSequence()) {
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> rows = (List<Map<String, Object>>) output.data();
                List<String> classes = rows.isEmpty() ? List.of() : new ArrayList<>(rows.get(0).keySet());
                List<Object> flat = new ArrayList<>(rows.size() * classes.size());
                for (Map<String, Object> row : rows) {
                    for (String c : classes) {
                        flat.add(row.get(c));
                    }
                }
                tensor.put("shape", new long[] {rows.size(), classes.size()});
                tensor.put("datatype", output.port().datatype());
                tensor.put("data", flat);
                tensor.put("parameters", Map.of("classes", String.join(",", classes)));
            } else {
                tensor.put("shape", output.shape());
                tensor.put("datatype", output.port().datatype());
                tensor.put("data", output.data());
            }
            byName.put(output.port().name(), tensor);
        }
        return byName;
    }

    /**
     * {@code {"predictions": [row, …]}}: a row of the output when there is one; {@code {"label", "probabilities"}}
     * when the outputs are a label and a sequence of maps (a converter's classifier); an object by output name when
     * there are several.
     */
    static Map<String, Object> predictions(List<Output> outputs) {
        Output label = null;
        Output maps = null;
        if (outputs.size() == 2) {
            for (Output o : outputs) {
                if (o.port().mapSequence()) {
                    maps = o;
                } else {
                    label = o;
                }
            }
        }
        int rows = outputs.isEmpty() ? 0 : rowsOf(outputs.get(0));
        List<Object> predictions = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            if (label != null && maps != null) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("label", row(label, i, rows));
                row.put("probabilities", row(maps, i, rows));
                predictions.add(row);
            } else if (outputs.size() == 1) {
                predictions.add(row(outputs.get(0), i, rows));
            } else {
                Map<String, Object> row = new LinkedHashMap<>();
                for (Output o : outputs) {
                    row.put(o.port().name(), row(o, i, rows));
                }
                predictions.add(row);
            }
        }
        return Map.of("predictions", predictions);
    }

    private static int rowsOf(Output output) {
        return output.shape().length == 0 ? 1 : (int) output.shape()[0];
    }

    /** Row {@code i} of the output: a scalar for [n], an array for [n, k], nested arrays for more dimensions. */
    private static Object row(Output output, int i, int rows) {
        if (output.data() instanceof List<?> list) {
            return list.size() == rows ? list.get(i) : list;
        }
        long[] shape = output.shape();
        if (shape.length == 0) {
            return Array.get(output.data(), 0);
        }
        if (shape[0] != rows) {
            return nested(output.data(), shape, 0, 0);
        }
        long[] inner = Arrays.copyOfRange(shape, 1, shape.length);
        int size = (int) Feeds.product(inner);
        return nested(output.data(), inner, 0, i * size);
    }

    /** The values from {@code offset} as nested arrays of {@code shape} (a scalar for no dimensions). */
    private static Object nested(Object flat, long[] shape, int depth, int offset) {
        if (depth == shape.length) {
            return Array.get(flat, offset);
        }
        int n = (int) shape[depth];
        if (depth == shape.length - 1) {
            Object slice = Array.newInstance(flat.getClass().getComponentType(), n);
            System.arraycopy(flat, offset, slice, 0, n);
            return slice;
        }
        long[] inner = Arrays.copyOfRange(shape, depth + 1, shape.length);
        int size = (int) Feeds.product(inner);
        List<Object> list = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            list.add(nested(flat, shape, depth + 1, offset + j * size));
        }
        return list;
    }
}
