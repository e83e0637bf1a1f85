package example;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Request;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Serves {@code model/model.onnx} with ONNX Runtime: Tribuo's iris logistic regression, exported to ONNX by
 * {@code cells/iris-tribuo/train/Train.java}. {@code model/model.properties} names the order of the graph's input
 * columns ({@code features}) and output columns ({@code labels}).
 *
 * <p>Accepts {@code {"features":[5.1,3.5,1.4,0.2]}} (sepal length, sepal width, petal length, petal width, in cm),
 * answered with {@code {"class":"setosa","probabilities":{...}}}; or {@code {"instances":[[...],[...]]}}, answered
 * with {@code {"predictions":[...]}}; {@code {"inputs":{"features":[[...],[...]]}}} likewise. By the Open Inference
 * Protocol ({@code POST /v2/models/iris-onnx/infer}), a tensor {@code features} (FP32 or FP64, shape [n, 4]) is
 * answered with the tensors {@code class} (BYTES [n]) and {@code probabilities} (FP32 [n, 3], the classes in its
 * parameters).
 */
public class IrisOnnxModel implements Model {

    /** The order clients send the measurements in. */
    static final List<String> FEATURES = List.of("sepal_length", "sepal_width", "petal_length", "petal_width");

    /**
     * What prepare hands to score: one row per flower, already in the graph's column order; {@code tensors} when
     * the request came by the Open Inference Protocol, whose answer is one tensor per output, a row per flower.
     */
    record Rows(float[][] rows, boolean batch, boolean tensors) {
        Rows(float[][] rows, boolean batch) {
            this(rows, batch, false);
        }
    }

    // Set once in load() and only read afterwards; OrtSession.run may be called from many threads at once.
    private OrtEnvironment environment;
    private OrtSession session;
    private String inputName;
    private int[] column;
    private List<String> labels;
    private int decimals = -1;

    // Stage 1, once per cell start: open the ONNX graph (ONNX Runtime loads its native library on first use).
    @Override
    public void load(ModelContext context) throws Exception {
        Path folder = context.directory().resolve("model");
        Properties order = new Properties();
        try (Reader reader = Files.newBufferedReader(folder.resolve("model.properties"), StandardCharsets.UTF_8)) {
            order.load(reader);
        }
        List<String> graphFeatures = Arrays.asList(order.getProperty("features", "").split(","));
        labels = Arrays.asList(order.getProperty("labels", "").split(","));
        column = new int[FEATURES.size()];
        for (int j = 0; j < column.length; j++) {
            column[j] = graphFeatures.indexOf(FEATURES.get(j));
            if (column[j] < 0) {
                throw new IllegalStateException("model.properties: features has no " + FEATURES.get(j));
            }
        }
        try {
            environment = OrtEnvironment.getEnvironment();
        } catch (UnsatisfiedLinkError e) {
            // ONNX Runtime unpacks its native library to a fresh temporary folder for each class loader, so every
            // cell loads its own copy. Pointing -Donnxruntime.native.path at one shared copy defeats that: a JVM
            // lets one class loader only load a given library file.
            throw new IllegalStateException("ONNX Runtime's native library is already loaded by another model from"
                    + " the same file; start the server without -Donnxruntime.native.path (or java.library.path)"
                    + " pointing at it, so that each model unpacks its own copy (" + e.getMessage() + ")", e);
        }
        session = environment.createSession(folder.resolve("model.onnx").toString(), new OrtSession.SessionOptions());
        inputName = session.getInputNames().iterator().next();
        String rounding = context.properties().get("decimals");
        decimals = rounding == null ? -1 : Integer.parseInt(rounding.trim());
        context.logger().log(System.Logger.Level.INFO, "loaded {0}: input {1}, classes {2}",
                folder.resolve("model.onnx"), session.getInputInfo().get(inputName).getInfo(), labels);
    }

    // Stage 2, per request: check the shape and turn the JSON into a float matrix; a bad request gets a 400.
    @Override
    public Object prepare(Request request) {
        return rows(request.json());
    }

    // Stage 3, per request: one run of the graph for all rows; the output is one probability per class and row.
    @Override
    public Object score(Object input) throws OrtException {
        Rows rows = input instanceof Rows r ? r : rows(input);
        float[][] probabilities;
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, rows.rows());
             OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
            probabilities = (float[][]) result.get(0).getValue();
        }
        if (rows.tensors()) {
            return tensors(probabilities);
        }
        List<Object> predictions = new ArrayList<>();
        for (float[] p : probabilities) {
            predictions.add(prediction(p));
        }
        return rows.batch() ? Map.of("predictions", predictions) : predictions.get(0);
    }

    // Stage 4 is the default: the prediction map goes back as JSON.

    // Runs when the cell stops or a new version replaces it: free the native session.
    @Override
    public void close() throws OrtException {
        if (session != null) {
            session.close();
        }
    }

    private Map<String, Object> prediction(float[] p) {
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[best]) {
                best = c;
            }
        }
        Map<String, Object> probabilities = new LinkedHashMap<>();
        for (String label : labels.stream().sorted().toList()) {
            probabilities.put(label, round(p[labels.indexOf(label)]));
        }
        Map<String, Object> prediction = new LinkedHashMap<>();
        prediction.put("class", labels.get(best));
        prediction.put("probabilities", probabilities);
        return prediction;
    }

    /** The protocol's answer: {@code class} BYTES [n] and {@code probabilities} FP32 [n, 3], classes sorted. */
    private Map<String, Object> tensors(float[][] probabilities) {
        List<String> sorted = labels.stream().sorted().toList();
        List<String> classes = new ArrayList<>();
        List<Object> flat = new ArrayList<>();
        for (float[] p : probabilities) {
            classes.add(String.valueOf(prediction(p).get("class")));
            for (String label : sorted) {
                flat.add(round(p[labels.indexOf(label)]));
            }
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("class", Map.of("shape", List.of(probabilities.length), "datatype", "BYTES", "data", classes));
        answer.put("probabilities", Map.of("shape", List.of(probabilities.length, sorted.size()), "datatype", "FP32",
                "data", flat, "parameters", Map.of("keys", String.join(",", sorted))));
        return answer;
    }

    private double round(float p) {
        // Through the float's shortest decimal text, so 0.99085706f rounds as 0.99085706, not as its binary value.
        BigDecimal exact = new BigDecimal(Float.toString(p));
        return decimals < 0 ? exact.doubleValue() : exact.setScale(decimals, RoundingMode.HALF_UP).doubleValue();
    }

    private Rows rows(Object json) {
        if (json instanceof Map<?, ?> body && body.size() == 1) {
            // the Open Inference Protocol's tensor: {"features": {"shape": [n, 4], "datatype", "data": [flat]}}
            if (body.get("features") instanceof Map<?, ?> tensor && tensor.get("data") instanceof List<?> data) {
                if (data.isEmpty() || data.size() % FEATURES.size() != 0) {
                    throw new IllegalArgumentException("input features needs " + FEATURES.size() + " numbers per"
                            + " row (shape [n, 4]: " + String.join(", ", FEATURES) + "), got " + data.size());
                }
                float[][] rows = new float[data.size() / FEATURES.size()][];
                for (int i = 0; i < rows.length; i++) {
                    rows[i] = row(data.subList(i * FEATURES.size(), (i + 1) * FEATURES.size()),
                            "input features, row " + i);
                }
                return new Rows(rows, true, true);
            }
            // {"inputs": {"features": [[...], ...]}}: the named form of {"instances": ...}
            if (body.get("inputs") instanceof Map<?, ?> named && named.size() == 1
                    && named.get("features") instanceof List<?> instances) {
                return rows(Map.of("instances", instances));
            }
            if (body.containsKey("features")) {
                return new Rows(new float[][] {row(body.get("features"), "features")}, false);
            }
            if (body.get("instances") instanceof List<?> instances && !instances.isEmpty()) {
                float[][] rows = new float[instances.size()][];
                for (int i = 0; i < rows.length; i++) {
                    rows[i] = row(instances.get(i), "instances[" + i + "]");
                }
                return new Rows(rows, true);
            }
        }
        throw new IllegalArgumentException("expected {\"features\":[sepal_length,sepal_width,petal_length,"
                + "petal_width]}, {\"instances\":[[...],[...]]} or {\"inputs\":{\"features\":[[...]]}}, numbers in cm");
    }

    private float[] row(Object value, String where) {
        if (!(value instanceof List<?> list) || list.size() != FEATURES.size()) {
            throw new IllegalArgumentException(where + " must be an array of " + FEATURES.size() + " numbers: "
                    + String.join(", ", FEATURES));
        }
        float[] row = new float[column.length];
        for (int j = 0; j < column.length; j++) {
            if (!(list.get(j) instanceof Number number) || !Double.isFinite(number.doubleValue())) {
                throw new IllegalArgumentException(where + "[" + j + "] (" + FEATURES.get(j) + ") must be a number");
            }
            row[column[j]] = number.floatValue();
        }
        return row;
    }
}
