package deployer.runtime.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Reply;
import deployer.spi.Request;
import java.io.IOException;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * {@code "runtime": "onnx"}: serves the package's ONNX graph with no script (DESIGN 1.9). {@code load} opens the
 * graph and reads its inputs and outputs; {@code prepare} checks a request against them (JSON rows or the Open
 * Inference Protocol's tensors) into flat arrays; {@code score} runs the graph once per request and copies the
 * outputs out; {@code reply} shapes them as {@code {"predictions": …}} or as typed tensors. With {@code "batching"},
 * {@code scoreBatch} stacks the rows of many requests into one run ({@link #scoreBatch}).
 *
 * <p>Session options come from the manifest's {@code properties}: {@code intra_op_threads} and
 * {@code inter_op_threads} (default 1 each: the box is shared by every model on it, and requests already run in
 * parallel), {@code optimization_level} ({@code none}, {@code basic}, {@code extended}, {@code all}; default
 * {@code all}).
 */
public final class OnnxModel implements Model {

    /** The header by which the server marks a request that carries the protocol's tensors. */
    public static final String PROTOCOL_HEADER = "x-deployer-protocol";
    /** Written into the package's {@code .deployer/} folder by the server: names the graph file. */
    public static final String CONFIG_FILE = "runtime.properties";
    /** Written into the package's {@code .deployer/} folder by {@link #load}: the graph's inputs and outputs. */
    public static final String SIGNATURE_FILE = "signature.json";

    static final String INTRA_OP_THREADS = "intra_op_threads";
    static final String INTER_OP_THREADS = "inter_op_threads";
    static final String OPTIMIZATION_LEVEL = "optimization_level";
    private static final List<String> OPTIONS = List.of(INTRA_OP_THREADS, INTER_OP_THREADS, OPTIMIZATION_LEVEL);

    /** What prepare hands to score. */
    record Prepared(List<Feeds.Feed> feeds, boolean tensors) {
    }

    /** What score hands to reply. */
    record Scored(List<Results.Output> outputs, boolean tensors) {
    }

    // Set once in load() and only read afterwards; OrtSession.run may be called from many threads at once.
    private OrtEnvironment environment;
    private OrtSession session;
    private List<Port> inputs;
    private List<Port> outputs;
    private Feeds feeds;

    @Override
    public void load(ModelContext context) throws Exception {
        Path graph = graphFile(context.directory());
        environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = options(context.properties())) {
            session = environment.createSession(graph.toString(), options);
        }
        inputs = ports(session.getInputInfo(), "input");
        outputs = ports(session.getOutputInfo(), "output");
        for (Port input : inputs) {
            if (!input.fed()) {
                throw new IllegalStateException("input " + input + " has a type runtime onnx cannot feed; it feeds"
                        + " FP32, FP64, INT32, INT64, BOOL and BYTES tensors");
            }
        }
        feeds = new Feeds(inputs);
        writeSignature(context.directory());
        context.logger().log(System.Logger.Level.INFO, "loaded {0}: inputs {1}, outputs {2}",
                context.directory().relativize(graph), inputs, outputs);
    }

    @Override
    public Object prepare(Request request) {
        List<String> protocol = request.headers().get(PROTOCOL_HEADER);
        if (protocol != null && protocol.contains("oip")) {
            Object json = request.json();
            if (!(json instanceof Map<?, ?> tensors) || !tensors.values().stream().allMatch(Map.class::isInstance)) {
                throw new IllegalArgumentException("expected the protocol's tensors by name");
            }
            return new Prepared(feeds.fromTensors(tensors), true);
        }
        if (inputs.size() == 1) {
            Feeds.Feed rows = JsonRows.read(request.body(), inputs.get(0));
            if (rows != null) {
                return new Prepared(List.of(rows), false);
            }
        }
        return new Prepared(feeds.fromJson(request.json()), false);
    }

    @Override
    public Object score(Object input) throws OrtException {
        Prepared prepared = input instanceof Prepared p ? p : new Prepared(feeds.fromJson(input), false);
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Feeds.Feed feed : prepared.feeds()) {
                tensors.put(feed.port().name(), tensor(feed));
            }
            try (OrtSession.Result result = session.run(tensors)) {
                return new Scored(Results.read(result, outputs), prepared.tensors());
            }
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * With {@code "batching"} (DESIGN 1.10): the requests' rows stacked along the batch axis into one run of the
     * graph, and each output split back by rows, so each request gets exactly what it would get alone. When the graph
     * cannot be stacked — an input without a free first axis, requests whose other dimensions differ, an output whose
     * first axis is not the rows — each request runs on its own, and one that fails fails alone.
     */
    @Override
    public List<Object> scoreBatch(List<Object> inputs) throws OrtException {
        List<Prepared> batch = new ArrayList<>(inputs.size());
        for (Object input : inputs) {
            batch.add(input instanceof Prepared p ? p : new Prepared(feeds.fromJson(input), false));
        }
        if (batch.size() > 1 && stackable(batch)) {
            List<Object> split = runStacked(batch);
            if (split != null) {
                return split;
            }
        }
        List<Object> predictions = new ArrayList<>(batch.size());
        for (Prepared prepared : batch) {
            try {
                predictions.add(score(prepared));
            } catch (OrtException | RuntimeException e) {
                predictions.add(new Failed(e));
            }
        }
        return predictions;
    }

    /** Whether every request feeds the same inputs, each with a free first axis and equal other dimensions. */
    private boolean stackable(List<Prepared> batch) {
        Prepared first = batch.get(0);
        for (int f = 0; f < first.feeds().size(); f++) {
            Feeds.Feed feed = first.feeds().get(f);
            if (feed.port().shape().length == 0 || feed.port().shape()[0] != -1 || feed.shape().length == 0) {
                return false;
            }
            for (Prepared other : batch) {
                if (other.feeds().size() != first.feeds().size()) {
                    return false;
                }
                Feeds.Feed mine = other.feeds().get(f);
                if (!mine.port().name().equals(feed.port().name()) || mine.shape().length != feed.shape().length
                        || mine.data().getClass() != feed.data().getClass()) {
                    return false;
                }
                for (int d = 1; d < feed.shape().length; d++) {
                    if (mine.shape()[d] != feed.shape()[d]) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** One run of the stacked rows, split back per request; null when an output cannot be split by rows. */
    private List<Object> runStacked(List<Prepared> batch) throws OrtException {
        Prepared first = batch.get(0);
        int[] rows = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            rows[i] = (int) batch.get(i).feeds().get(0).shape()[0];
        }
        int total = java.util.Arrays.stream(rows).sum();
        List<Feeds.Feed> stacked = new ArrayList<>(first.feeds().size());
        for (int f = 0; f < first.feeds().size(); f++) {
            Feeds.Feed feed = first.feeds().get(f);
            long[] shape = feed.shape().clone();
            long rowsOfFeed = 0;
            List<Object> parts = new ArrayList<>(batch.size());
            for (Prepared prepared : batch) {
                Feeds.Feed part = prepared.feeds().get(f);
                rowsOfFeed += part.shape()[0];
                parts.add(part.data());
            }
            if (rowsOfFeed != total) {
                return null;
            }
            shape[0] = total;
            stacked.add(new Feeds.Feed(feed.port(), shape, concat(parts)));
        }
        Scored all;
        try {
            all = (Scored) score(new Prepared(stacked, first.tensors()));
        } catch (OrtException | RuntimeException e) {
            // One request's values may be what the graph refuses: run them apart, so that one fails alone.
            return null;
        }
        for (Results.Output output : all.outputs()) {
            if (output.shape().length == 0 || output.shape()[0] != total) {
                return null;
            }
        }
        List<Object> predictions = new ArrayList<>(batch.size());
        int from = 0;
        for (int i = 0; i < batch.size(); i++) {
            List<Results.Output> mine = new ArrayList<>(all.outputs().size());
            for (Results.Output output : all.outputs()) {
                mine.add(slice(output, from, rows[i], total));
            }
            predictions.add(new Scored(mine, batch.get(i).tensors()));
            from += rows[i];
        }
        return predictions;
    }

    /** Rows {@code from} to {@code from + count} of an output that has {@code total} rows. */
    private static Results.Output slice(Results.Output output, int from, int count, int total) {
        long[] shape = output.shape().clone();
        shape[0] = count;
        if (output.data() instanceof List<?> list) {
            return new Results.Output(output.port(), shape, new ArrayList<>(list.subList(from, from + count)));
        }
        int perRow = java.lang.reflect.Array.getLength(output.data()) / total;
        Object part = java.lang.reflect.Array.newInstance(output.data().getClass().getComponentType(), count * perRow);
        System.arraycopy(output.data(), from * perRow, part, 0, count * perRow);
        return new Results.Output(output.port(), shape, part);
    }

    /** Flat arrays of one element type, end to end. */
    private static Object concat(List<Object> parts) {
        int length = 0;
        for (Object part : parts) {
            length += java.lang.reflect.Array.getLength(part);
        }
        Object all = java.lang.reflect.Array.newInstance(parts.get(0).getClass().getComponentType(), length);
        int at = 0;
        for (Object part : parts) {
            int n = java.lang.reflect.Array.getLength(part);
            System.arraycopy(part, 0, all, at, n);
            at += n;
        }
        return all;
    }

    /** A request of a batch that failed when run on its own: its reply throws, the others are answered. */
    private record Failed(Exception failure) {
    }

    @Override
    public Reply reply(Object prediction) {
        if (prediction instanceof Failed failed) {
            throw failed.failure() instanceof RuntimeException e ? e : new IllegalStateException(failed.failure());
        }
        Scored scored = (Scored) prediction;
        return Reply.json(scored.tensors() ? Results.tensors(scored.outputs()) : Results.predictions(scored.outputs()));
    }

    @Override
    public void close() throws OrtException {
        if (session != null) {
            session.close();
        }
    }

    private OnnxTensor tensor(Feeds.Feed feed) throws OrtException {
        long[] shape = feed.shape();
        Object data = feed.data();
        if (data instanceof float[] f) {
            return OnnxTensor.createTensor(environment, FloatBuffer.wrap(f), shape);
        }
        if (data instanceof double[] d) {
            return OnnxTensor.createTensor(environment, DoubleBuffer.wrap(d), shape);
        }
        if (data instanceof long[] l) {
            return OnnxTensor.createTensor(environment, LongBuffer.wrap(l), shape);
        }
        if (data instanceof int[] i) {
            return OnnxTensor.createTensor(environment, IntBuffer.wrap(i), shape);
        }
        if (data instanceof boolean[] b) {
            ByteBuffer bytes = ByteBuffer.allocateDirect(b.length);
            for (boolean v : b) {
                bytes.put((byte) (v ? 1 : 0));
            }
            bytes.rewind();
            return OnnxTensor.createTensor(environment, bytes, shape, OnnxJavaType.BOOL);
        }
        return OnnxTensor.createTensor(environment, (String[]) data, shape);
    }

    private static OrtSession.SessionOptions options(Map<String, String> properties) throws OrtException {
        for (String key : properties.keySet()) {
            if (!OPTIONS.contains(key)) {
                throw new IllegalArgumentException("properties." + key + " is not an option of runtime onnx; its"
                        + " options are " + String.join(", ", OPTIONS));
            }
        }
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(threads(properties, INTRA_OP_THREADS));
            options.setInterOpNumThreads(threads(properties, INTER_OP_THREADS));
            String level = properties.getOrDefault(OPTIMIZATION_LEVEL, "all").trim().toLowerCase(Locale.ROOT);
            options.setOptimizationLevel(switch (level) {
                case "none" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
                case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
                case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
                case "all" -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
                default -> throw new IllegalArgumentException("properties." + OPTIMIZATION_LEVEL + " must be none,"
                        + " basic, extended or all, not " + level);
            });
            return options;
        } catch (RuntimeException | OrtException e) {
            options.close();
            throw e;
        }
    }

    private static int threads(Map<String, String> properties, String key) {
        String value = properties.getOrDefault(key, "1").trim();
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= 256) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("properties." + key + " must be a whole number from 1 to 256, not "
                + value);
    }

    /** The graph: the file the server named in {@code .deployer/runtime.properties}, or the package's one *.onnx. */
    static Path graphFile(Path directory) throws IOException {
        Path config = directory.resolve(".deployer").resolve(CONFIG_FILE);
        if (Files.isRegularFile(config)) {
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
                p.load(in);
            }
            String model = p.getProperty("model");
            if (model != null) {
                return directory.resolve(model);
            }
        }
        try (Stream<Path> files = Files.walk(directory)) {
            List<Path> graphs = files.filter(f -> f.getFileName().toString().endsWith(".onnx"))
                    .filter(Files::isRegularFile).toList();
            if (graphs.size() != 1) {
                throw new IllegalStateException("the package holds " + graphs.size() + " .onnx files; name the one"
                        + " to serve with \"model\" in deploy.json");
            }
            return graphs.get(0);
        }
    }

    private static List<Port> ports(Map<String, NodeInfo> nodes, String kind) {
        List<Port> ports = new ArrayList<>();
        for (NodeInfo node : nodes.values()) {
            Port port = Port.of(node);
            if (port == null) {
                throw new IllegalStateException(kind + " " + node.getName() + " is a " + node.getInfo()
                        + ", which runtime onnx does not serve (tensors and sequences of maps only)");
            }
            ports.add(port);
        }
        return List.copyOf(ports);
    }

    /** {@code {"inputs": [...], "outputs": [...]}} for the protocol's metadata, which the server reads. */
    private void writeSignature(Path directory) throws IOException {
        StringBuilder json = new StringBuilder("{\"inputs\":");
        appendPorts(json, inputs);
        json.append(",\"outputs\":");
        appendPorts(json, outputs);
        json.append("}\n");
        Path folder = directory.resolve(".deployer");
        Files.createDirectories(folder);
        Path temp = Files.createTempFile(folder, SIGNATURE_FILE, ".tmp");
        Files.writeString(temp, json, StandardCharsets.UTF_8);
        Files.move(temp, folder.resolve(SIGNATURE_FILE), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    private static void appendPorts(StringBuilder json, List<Port> ports) {
        json.append('[');
        for (int i = 0; i < ports.size(); i++) {
            Port p = ports.get(i);
            json.append(i == 0 ? "" : ",").append("{\"name\":");
            quote(json, p.name());
            json.append(",\"datatype\":\"").append(p.datatype()).append("\",\"shape\":[");
            for (int d = 0; d < p.shape().length; d++) {
                json.append(d == 0 ? "" : ",").append(p.shape()[d]);
            }
            json.append("]}");
        }
        json.append(']');
    }

    private static void quote(StringBuilder json, String s) {
        json.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c < 0x20) {
                json.append(String.format("\\u%04x", (int) c));
            } else {
                json.append(c);
            }
        }
        json.append('"');
    }
}
