package deployer;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX graphs made at test time with ONNX's protobuf classes (from Tribuo's tribuo-util-onnx), the shapes that
 * converters emit: nothing downloaded, nothing binary committed. Every graph has a dynamic batch axis.
 */
public final class OnnxGraphs {

    static final int FLOAT = TensorProto.DataType.FLOAT.getNumber();
    static final int DOUBLE = TensorProto.DataType.DOUBLE.getNumber();
    static final int INT32 = TensorProto.DataType.INT32.getNumber();
    static final int INT64 = TensorProto.DataType.INT64.getNumber();
    static final int BOOL = TensorProto.DataType.BOOL.getNumber();
    static final int STRING = TensorProto.DataType.STRING.getNumber();

    private OnnxGraphs() {
    }

    /**
     * The skl2onnx classifier shape: {@code input} FP32 [batch, 4] → {@code label} INT64 [batch] and
     * {@code probabilities}, a sequence of maps {class: p} (ZipMap). Class c scores 2 × feature c (class 3 none).
     */
    public static byte[] classifier() {
        GraphProto graph = GraphProto.newBuilder().setName("classifier")
                .addInput(tensor("input", FLOAT, -1, 4))
                .addInitializer(floats("W", new long[] {4, 3}, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0))
                .addNode(node("MatMul", List.of("input", "W"), List.of("scores")))
                .addNode(node("Softmax", List.of("scores"), List.of("p")).addAttribute(ints("axis", 1)))
                .addNode(node("ArgMax", List.of("p"), List.of("label"))
                        .addAttribute(ints("axis", 1)).addAttribute(ints("keepdims", 0)))
                .addNode(node("ZipMap", List.of("p"), List.of("probabilities")).setDomain("ai.onnx.ml")
                        .addAttribute(AttributeProto.newBuilder().setName("classlabels_int64s")
                                .setType(AttributeProto.AttributeType.INTS).addInts(0).addInts(1).addInts(2)))
                .addOutput(tensor("label", INT64, -1))
                .addOutput(ValueInfoProto.newBuilder().setName("probabilities").setType(TypeProto.newBuilder()
                        .setSequenceType(TypeProto.Sequence.newBuilder().setElemType(TypeProto.newBuilder()
                                .setMapType(TypeProto.Map.newBuilder().setKeyType(INT64).setValueType(
                                        TypeProto.newBuilder().setTensorType(
                                                TypeProto.Tensor.newBuilder().setElemType(FLOAT))))))))
                .build();
        return model(graph);
    }

    /** A regression with FP64 output: {@code x} FP64 [batch, 2] → {@code y} = x · [0.5, 0.25] + 1, FP64 [batch, 1]. */
    public static byte[] regression() {
        GraphProto graph = GraphProto.newBuilder().setName("regression")
                .addInput(tensor("x", DOUBLE, -1, 2))
                .addInitializer(TensorProto.newBuilder().setName("W").setDataType(DOUBLE).addDims(2).addDims(1)
                        .addDoubleData(0.5).addDoubleData(0.25))
                .addInitializer(TensorProto.newBuilder().setName("b").setDataType(DOUBLE).addDims(1)
                        .addDoubleData(1.0))
                .addNode(node("MatMul", List.of("x", "W"), List.of("xw")))
                .addNode(node("Add", List.of("xw", "b"), List.of("y")))
                .addOutput(tensor("y", DOUBLE, -1, 1))
                .build();
        return model(graph);
    }

    /** Two named inputs of different types: {@code x} FP32 [batch, 3] times {@code k} INT64 [batch, 1] → {@code y}. */
    public static byte[] mixed() {
        GraphProto graph = GraphProto.newBuilder().setName("mixed")
                .addInput(tensor("x", FLOAT, -1, 3))
                .addInput(tensor("k", INT64, -1, 1))
                .addNode(node("Cast", List.of("k"), List.of("kf")).addAttribute(ints("to", FLOAT)))
                .addNode(node("Mul", List.of("x", "kf"), List.of("y")))
                .addOutput(tensor("y", FLOAT, -1, 3))
                .build();
        return model(graph);
    }

    /** One input of each fed type, each passed through to an output {@code <name>_out}: f32, f64, i32, i64, b, s. */
    public static byte[] types() {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("types");
        Map<String, Integer> inputs = new LinkedHashMap<>();
        inputs.put("f32", FLOAT);
        inputs.put("f64", DOUBLE);
        inputs.put("i32", INT32);
        inputs.put("i64", INT64);
        inputs.put("b", BOOL);
        inputs.put("s", STRING);
        inputs.forEach((name, type) -> {
            long width = type == STRING ? 1 : 2;
            graph.addInput(tensor(name, type, -1, width));
            graph.addNode(node("Identity", List.of(name), List.of(name + "_out")));
            graph.addOutput(tensor(name + "_out", type, -1, width));
        });
        return model(graph.build());
    }

    /**
     * A multi-layer perceptron on FP32 with a dynamic batch axis: {@code x} [batch, in] → {@code y} [batch, out],
     * each hidden layer {@code relu(x · W + b)}; weights drawn from {@code seed}. Heavy enough per call that stacking
     * requests shows (the batching benchmark's model).
     */
    public static byte[] mlp(long seed, int in, int out, int... hidden) {
        java.util.Random random = new java.util.Random(seed);
        GraphProto.Builder graph = GraphProto.newBuilder().setName("mlp").addInput(tensor("x", FLOAT, -1, in))
                .addOutput(tensor("y", FLOAT, -1, out));
        String previous = "x";
        int width = in;
        int[] layers = java.util.Arrays.copyOf(hidden, hidden.length + 1);
        layers[hidden.length] = out;
        for (int l = 0; l < layers.length; l++) {
            int next = layers[l];
            float[] w = new float[width * next];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (random.nextGaussian() / Math.sqrt(width));
            }
            float[] b = new float[next];
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (random.nextGaussian() * 0.01);
            }
            graph.addInitializer(floats("W" + l, new long[] {width, next}, w))
                    .addInitializer(floats("b" + l, new long[] {next}, b))
                    .addNode(node("MatMul", List.of(previous, "W" + l), List.of("m" + l)));
            boolean last = l == layers.length - 1;
            graph.addNode(node("Add", List.of("m" + l, "b" + l), List.of(last ? "y" : "a" + l)));
            if (!last) {
                graph.addNode(node("Relu", List.of("a" + l), List.of("h" + l)));
                previous = "h" + l;
            }
            width = next;
        }
        return model(graph.build());
    }

    /** A no-code package: deploy.json naming runtime onnx, and the graph as model/model.onnx. */
    public static Map<String, byte[]> nocode(String name, byte[] graph, String extraManifest) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", ("{\"name\": \"" + name + "\", \"runtime\": \"onnx\"" + extraManifest + "}")
                .getBytes(StandardCharsets.UTF_8));
        files.put("model/model.onnx", graph);
        return files;
    }

    /** ONNX Runtime for Java from the local Maven repository, where the build put it. */
    public static Path onnxRuntimeJar() {
        String repo = System.getProperty("deployer.test.mavenRepo", System.getProperty("user.home") + "/.m2/repository");
        String version = ai.onnxruntime.OrtEnvironment.class.getPackage().getImplementationVersion();
        Path folder = Path.of(repo, "com", "microsoft", "onnxruntime", "onnxruntime");
        try (var versions = Files.list(folder)) {
            Path dir = versions.filter(Files::isDirectory).filter(d -> version == null
                    || d.getFileName().toString().equals(version)).findFirst().orElseThrow();
            return dir.resolve("onnxruntime-" + dir.getFileName() + ".jar");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Gives a server's data folder its own ONNX Runtime, as the README says to: {@code <data>/runtimes/}. */
    public static void provideRuntime(Path data) {
        Path jar = onnxRuntimeJar();
        try {
            Files.createDirectories(data.resolve("runtimes"));
            Path link = data.resolve("runtimes").resolve(jar.getFileName());
            if (!Files.exists(link)) {
                Files.createSymbolicLink(link, jar);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("deployer-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(1))
                .setGraph(graph).build().toByteArray();
    }

    private static ValueInfoProto tensor(String name, int type, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }

    private static TensorProto floats(String name, long[] dims, float... values) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT);
        for (long d : dims) {
            t.addDims(d);
        }
        for (float v : values) {
            t.addFloatData(v);
        }
        return t.build();
    }

    private static NodeProto.Builder node(String op, List<String> inputs, List<String> outputs) {
        return NodeProto.newBuilder().setOpType(op).setName(op + "-" + outputs.get(0)).addAllInput(inputs)
                .addAllOutput(outputs);
    }

    private static AttributeProto ints(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }
}
