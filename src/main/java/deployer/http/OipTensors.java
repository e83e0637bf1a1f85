package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.pack.Manifest;
import java.io.IOException;
import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Set;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the Open Inference Protocol needs to know about a model beyond its manifest: the header that tells a model a
 * request carries the protocol's tensors, and the graph's real inputs and outputs for the metadata of a no-code
 * model (written by the runtime when it loads the graph).
 */
final class OipTensors {

    private static final Logger log = LoggerFactory.getLogger(OipTensors.class);

    /** Set on a request made of an {@code infer}'s tensors; the ONNX runtime reads it (its {@code PROTOCOL_HEADER}). */
    static final String PROTOCOL_HEADER = "x-deployer-protocol";
    /** Where the ONNX runtime leaves the graph's signature, inside the package folder. */
    static final String SIGNATURE = ".deployer/signature.json";
    /** Triton's platform name for a model run by ONNX Runtime. */
    static final String ONNX_PLATFORM = "onnxruntime_onnx";

    private OipTensors() {
    }

    /**
     * Fills the metadata's {@code platform}, {@code inputs} and {@code outputs} from the graph when the model is a
     * no-code runtime's; the manifest's own {@code inputs}/{@code outputs} win. The graph is read when the version's
     * cell loads: before that (it never loaded, it FAILED) this is a 409 saying so, not empty lists the client
     * would take for the graph's.
     */
    static void describe(Map<String, Object> metadata, Manifest manifest, Path folder, int version, String state) {
        if (manifest.runtime() == null) {
            return;
        }
        metadata.put("platform", ONNX_PLATFORM);
        Path file = folder.resolve(SIGNATURE);
        if (!Files.isRegularFile(file)) {
            if (manifest.inputs().isEmpty() || manifest.outputs().isEmpty()) {
                throw DeployerException.conflict("the inputs and outputs of model " + manifest.name() + " v"
                        + version + " are read from its graph when it loads, and it has not loaded yet (it is "
                        + state + "; see GET /api/models/" + manifest.name() + ")");
            }
            return;
        }
        try {
            if (Json.parse(Files.readAllBytes(file)) instanceof Map<?, ?> signature) {
                if (manifest.inputs().isEmpty() && signature.get("inputs") instanceof List<?> inputs) {
                    metadata.put("inputs", inputs);
                }
                if (manifest.outputs().isEmpty() && signature.get("outputs") instanceof List<?> outputs) {
                    metadata.put("outputs", outputs);
                }
            }
        } catch (IOException e) {
            log.debug("{} - the graph's signature is unreadable: {}", manifest.name(), e.toString());
        }
    }

    private static final Set<String> NUMERIC = Set.of("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64",
            "UINT8", "UINT16", "UINT32", "UINT64");

    /**
     * An infer's inputs as a script model whose manifest declares {@code inputs} gets them: by name, each a Java
     * array shaped as the tensor ({@code float[][]} for FP32 [2, 4], {@code long[]} for INT64 [3], {@code String[]}
     * for BYTES, {@code boolean[]} for BOOL; FP64 is {@code double}, INT8 to INT32 and UINT8/16 {@code int}, INT64
     * and UINT32/64 {@code long}), converted to the declared datatype where no value changes. A fault is a 400
     * naming the tensor.
     */
    static Map<String, Object> typed(Map<String, Object> named, List<Manifest.Tensor> declared) {
        for (String name : named.keySet()) {
            if (declared.stream().noneMatch(t -> t.name().equals(name))) {
                throw DeployerException.badRequest("input " + name + " is not one the model declares; it takes "
                        + declared.stream().map(Manifest.Tensor::name).toList());
            }
        }
        Map<String, Object> typed = new LinkedHashMap<>();
        for (Manifest.Tensor tensor : declared) {
            if (!(named.get(tensor.name()) instanceof Map<?, ?> given)) {
                throw DeployerException.badRequest("input " + tensor.name() + " (" + tensor.datatype() + " "
                        + tensor.shape() + ") is missing");
            }
            typed.put(tensor.name(), array(tensor, given));
        }
        return typed;
    }

    private static Object array(Manifest.Tensor tensor, Map<?, ?> given) {
        String at = "input " + tensor.name();
        List<?> shape = (List<?>) given.get("shape");
        List<?> data = (List<?>) given.get("data");
        String datatype = (String) given.get("datatype");
        int[] dims = new int[shape.size()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = ((Number) shape.get(i)).longValue();
            if (d > Integer.MAX_VALUE) {
                throw DeployerException.badRequest(at + ": dimension " + i + " is too large");
            }
            dims[i] = (int) d;
            count *= d;
        }
        if (count != data.size()) {
            throw DeployerException.badRequest(at + ": shape " + shape + " holds " + count + " values, but data has "
                    + data.size());
        }
        boolean fits = tensor.shape().size() == dims.length;
        for (int i = 0; fits && i < dims.length; i++) {
            fits = tensor.shape().get(i) == -1 || tensor.shape().get(i) == dims[i];
        }
        if (!fits) {
            throw DeployerException.badRequest(at + ": shape " + shape + " does not fit the declared "
                    + tensor.shape() + " (-1 is any size)");
        }
        String want = tensor.datatype();
        if (!datatype.equals(want) && !(NUMERIC.contains(datatype) && NUMERIC.contains(want))) {
            throw DeployerException.badRequest(at + ": datatype " + datatype + " does not convert to the declared "
                    + want);
        }
        Class<?> element = switch (want) {
            case "FP16", "FP32" -> float.class;
            case "FP64" -> double.class;
            case "INT64", "UINT32", "UINT64" -> long.class;
            case "BOOL" -> boolean.class;
            case "BYTES" -> String.class;
            default -> int.class;
        };
        if (dims.length == 0) {
            Object one = Array.newInstance(element, 1);
            set(one, 0, data.get(0), want, at, 0);
            return Array.get(one, 0);
        }
        Object array = Array.newInstance(element, dims);
        int[] index = new int[dims.length];
        for (int flat = 0; flat < data.size(); flat++) {
            Object row = array;
            for (int d = 0; d < dims.length - 1; d++) {
                row = Array.get(row, index[d]);
            }
            set(row, index[dims.length - 1], data.get(flat), want, at, flat);
            for (int d = dims.length - 1; d >= 0 && ++index[d] == dims[d]; d--) {
                index[d] = 0;
            }
        }
        return array;
    }

    private static void set(Object row, int i, Object value, String want, String at, int flat) {
        Class<?> type = row.getClass().getComponentType();
        if (type == String.class) {
            if (!(value instanceof String s)) {
                throw DeployerException.badRequest(at + ": value " + flat + " must be a string (BYTES)");
            }
            Array.set(row, i, s);
        } else if (type == boolean.class) {
            if (!(value instanceof Boolean b)) {
                throw DeployerException.badRequest(at + ": value " + flat + " must be true or false (BOOL)");
            }
            Array.setBoolean(row, i, b);
        } else {
            if (!(value instanceof Number n)) {
                throw DeployerException.badRequest(at + ": value " + flat + " must be a number (" + want + ")");
            }
            if (type == float.class) {
                Array.setFloat(row, i, n.floatValue());
            } else if (type == double.class) {
                Array.setDouble(row, i, n.doubleValue());
            } else {
                double d = n.doubleValue();
                long l = n.longValue();
                boolean whole = n instanceof Long || d == Math.rint(d);
                boolean inRange = type == long.class || (l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE);
                if (!whole || !inRange) {
                    throw DeployerException.badRequest(at + ": value " + flat + " (" + n + ") is not a whole number"
                            + " that " + want + " holds");
                }
                if (type == long.class) {
                    Array.setLong(row, i, l);
                } else {
                    Array.setInt(row, i, (int) l);
                }
            }
        }
    }

    /** For messages: a shape as the protocol writes it. */
    static String show(long[] shape) {
        return Arrays.toString(shape);
    }
}
