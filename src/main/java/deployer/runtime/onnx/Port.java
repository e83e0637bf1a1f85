package deployer.runtime.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import ai.onnxruntime.ValueInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One input or output of the graph as the Open Inference Protocol names it: a tensor with a datatype and a shape (a
 * dynamic axis is -1), or a sequence of maps (what a converter's {@code ZipMap} gives: one {class: p} per row).
 *
 * @param name the graph's name for it
 * @param datatype {@code FP32}, {@code INT64}, {@code BYTES} …; for a sequence of maps, the type of its values
 * @param onnxType the element type; null for a sequence of maps
 * @param shape the dimensions, -1 where the graph leaves one free
 * @param mapSequence whether it is a sequence of maps rather than a tensor
 */
record Port(String name, String datatype, OnnxTensorType onnxType, long[] shape, boolean mapSequence) {

    /** The element types an input may have; the six datatypes the runtime converts requests into. */
    static final List<OnnxTensorType> FED = List.of(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
            OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32,
            OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL,
            OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);

    /** Describes one of the graph's inputs or outputs; null when it is neither a tensor nor a sequence of maps. */
    static Port of(NodeInfo node) {
        ValueInfo info = node.getInfo();
        if (info instanceof TensorInfo tensor) {
            long[] shape = tensor.getShape().clone();
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shape[i] < 0 ? -1 : shape[i];
            }
            return new Port(node.getName(), datatype(tensor.onnxType), tensor.onnxType, shape, false);
        }
        if (info instanceof SequenceInfo sequence && sequence.isSequenceOfMaps()) {
            String values = switch (sequence.mapInfo.valueType) {
                case DOUBLE -> "FP64";
                case INT64 -> "INT64";
                default -> "FP32";
            };
            return new Port(node.getName(), values, null, new long[] {-1, -1}, true);
        }
        return null;
    }

    /** The Open Inference Protocol's name of an ONNX element type. */
    static String datatype(OnnxTensorType type) {
        return switch (type) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> "FP32";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> "FP64";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> "FP16";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> "INT8";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> "INT16";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> "INT32";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> "INT64";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> "UINT8";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> "UINT16";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> "UINT32";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> "UINT64";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> "BOOL";
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> "BYTES";
            default -> type.name().replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "");
        };
    }

    /** Whether requests can be converted into this input. */
    boolean fed() {
        return !mapSequence && FED.contains(onnxType);
    }

    /** {@code {"name", "datatype", "shape"}}, as the protocol's metadata lists it. */
    Map<String, Object> metadata() {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", name);
        view.put("datatype", datatype);
        List<Long> dims = new ArrayList<>();
        for (long d : shape) {
            dims.add(d);
        }
        view.put("shape", dims);
        return view;
    }

    @Override
    public String toString() {
        return name + " " + datatype + " " + Arrays.toString(shape);
    }
}
