package serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Reply;
import deployer.spi.Request;
import java.io.Reader;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The serving script of {{name}}: an ONNX model (model/model.onnx) run by ONNX Runtime for Java
 * (lib/onnxruntime-*.jar).
 * model/model.properties names the model's input columns in order ("features") and its output columns ("labels"):
 * an ONNX graph knows neither. The sample model is a logistic regression on the iris data; put yours in its place
 * (any model with one float input [batch, features] and one float output [batch, classes] fits this script).
 *
 * Request:  {"features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}
 * Reply:    {"class": "setosa", "probabilities": {"setosa": 0.9909, "versicolor": 0.0091, "virginica": 0.0}}
 * Also:     {"instances": [[...], ...]} or {"inputs": {"features": [[...], ...]}}, columns in the order of
 *           model.properties, answered {"predictions": [...]}; and the Open Inference Protocol (POST
 *           /v2/models/NAME/infer with a tensor "features" [n, columns]), answered with the tensors "class" and
 *           "probabilities".
 */
public class {{class}} implements Model {

    // Set once in load(); an OrtSession may run many requests at the same time.
    private OrtEnvironment environment;
    private OrtSession session;
    private String input;
    private List<String> features;
    private List<String> labels;
    private int decimals = -1;

    // Stage 1 - LOAD, once when the model starts: open the ONNX graph. Paths are relative to context.directory().
    @Override
    public void load(ModelContext context) throws Exception {
        Path folder = context.directory().resolve("model");
        Properties columns = new Properties();
        try (Reader reader = Files.newBufferedReader(folder.resolve("model.properties"), StandardCharsets.UTF_8)) {
            columns.load(reader);
        }
        features = List.of(columns.getProperty("features").split(","));
        labels = List.of(columns.getProperty("labels").split(","));
        try {
            environment = OrtEnvironment.getEnvironment();
        } catch (UnsatisfiedLinkError e) {
            // ONNX Runtime normally unpacks its native library to a fresh temporary folder for every model, so two
            // models (or two versions during a hot swap) each load their own copy. A JVM loads one library file into
            // one class loader only: pointing -Donnxruntime.native.path (or java.library.path) at one shared copy
            // breaks that. Start the server without those settings.
            throw new IllegalStateException("ONNX Runtime's native library is already loaded by another model from"
                    + " the same file; start the server without -Donnxruntime.native.path / java.library.path"
                    + " pointing at it, so each model unpacks its own copy (" + e.getMessage() + ")", e);
        }
        session = environment.createSession(folder.resolve("model.onnx").toString(), new OrtSession.SessionOptions());
        input = session.getInputNames().iterator().next();
        String rounding = context.properties().get("decimals");
        decimals = rounding == null ? -1 : Integer.parseInt(rounding.trim());
        context.logger().log(System.Logger.Level.INFO, "{0}: input {1} {2}, classes {3}", folder.resolve("model.onnx"),
                input, features, labels);
    }

    // Stage 2 - PREPARE, per request: the named features, put in the column order the graph expects.
    // Throw IllegalArgumentException for input you cannot use: the caller gets a 400 with your message.
    @Override
    public Object prepare(Request request) {
        return rows(request.json());
    }

    /** One request's rows in the graph's column order; {@code batch} answers a list, {@code tensors} the protocol. */
    record Rows(float[][] rows, boolean batch, boolean tensors) {
    }

    // Stage 3 - SCORE, per request: run the graph on a [1, features] float tensor; free the native memory after.
    // The health sample of deploy.json comes here without prepare(), so accept the raw JSON too.
    @Override
    public Object score(Object prepared) throws OrtException {
        Rows rows = prepared instanceof Rows ready ? ready : rows(prepared);
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, rows.rows());
             OrtSession.Result result = session.run(Map.of(input, tensor))) {
            return new Object[] {rows, result.get(0).getValue()};
        }
    }

    // Stage 4 - REPLY, per request: the most probable class and every class's probability, as JSON.
    @Override
    public Reply reply(Object prediction) {
        Rows rows = (Rows) ((Object[]) prediction)[0];
        float[][] p = (float[][]) ((Object[]) prediction)[1];
        if (rows.tensors()) {
            List<String> classes = new ArrayList<>();
            List<Object> flat = new ArrayList<>();
            for (float[] row : p) {
                classes.add((String) answer(row).get("class"));
                for (float v : row) {
                    flat.add(round(v));
                }
            }
            Map<String, Object> tensors = new LinkedHashMap<>();
            tensors.put("class", Map.of("shape", List.of(p.length), "datatype", "BYTES", "data", classes));
            tensors.put("probabilities", Map.of("shape", List.of(p.length, labels.size()), "datatype", "FP32",
                    "data", flat, "parameters", Map.of("keys", String.join(",", labels))));
            return Reply.json(tensors);
        }
        if (rows.batch()) {
            List<Object> predictions = new ArrayList<>();
            for (float[] row : p) {
                predictions.add(answer(row));
            }
            return Reply.json(Map.of("predictions", predictions));
        }
        return Reply.json(answer(p[0]));
    }

    private Map<String, Object> answer(float[] p) {
        int best = 0;
        Map<String, Object> probabilities = new TreeMap<>();         // by class name, whatever the graph's order
        for (int c = 0; c < p.length; c++) {
            probabilities.put(labels.get(c), round(p[c]));
            best = p[c] > p[best] ? c : best;
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("class", labels.get(best));
        answer.put("probabilities", probabilities);
        return answer;
    }

    // When the model stops or a new version replaces it: free the native session.
    @Override
    public void close() throws OrtException {
        if (session != null) {
            session.close();
        }
    }

    private Rows rows(Object json) {
        if (json instanceof Map<?, ?> body && body.get("features") instanceof Map<?, ?> tensor
                && tensor.get("data") instanceof List<?> data) {
            // the Open Inference Protocol's tensor "features", shape [n, columns], data flat row after row
            if (data.isEmpty() || data.size() % features.size() != 0) {
                throw new IllegalArgumentException("input features needs " + features.size() + " numbers per row "
                        + features + ", got " + data.size());
            }
            float[][] rows = new float[data.size() / features.size()][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = columns(data.subList(i * features.size(), (i + 1) * features.size()), "features");
            }
            return new Rows(rows, true, true);
        }
        Object instances = json instanceof Map<?, ?> body ? body.get("instances") : null;
        if (json instanceof Map<?, ?> body && body.get("inputs") instanceof Map<?, ?> named) {
            instances = named.get("features");
        }
        if (instances instanceof List<?> list && !list.isEmpty()) {
            float[][] rows = new float[list.size()][];
            for (int i = 0; i < rows.length; i++) {
                if (!(list.get(i) instanceof List<?> row)) {
                    throw new IllegalArgumentException("row " + i + " must be an array of " + features);
                }
                rows[i] = columns(row, "row " + i);
            }
            return new Rows(rows, true, false);
        }
        return new Rows(new float[][] {row(json)}, false, false);
    }

    private float[] columns(List<?> values, String where) {
        if (values.size() != features.size()) {
            throw new IllegalArgumentException(where + " must have " + features.size() + " numbers: " + features);
        }
        float[] row = new float[values.size()];
        for (int j = 0; j < row.length; j++) {
            if (!(values.get(j) instanceof Number n)) {
                throw new IllegalArgumentException(where + "[" + j + "] (" + features.get(j) + ") must be a number");
            }
            row[j] = n.floatValue();
        }
        return row;
    }

    private float[] row(Object json) {
        if (!(json instanceof Map<?, ?> body) || !(body.get("features") instanceof Map<?, ?> named)) {
            throw new IllegalArgumentException("expected {\"features\": {\"name\": number, ...}} with " + features);
        }
        float[] row = new float[features.size()];
        for (int j = 0; j < row.length; j++) {
            if (!(named.get(features.get(j)) instanceof Number n)) {
                throw new IllegalArgumentException("features." + features.get(j) + " must be a number; send "
                        + features);
            }
            row[j] = n.floatValue();
        }
        return row;
    }

    private double round(float p) {
        BigDecimal exact = new BigDecimal(Float.toString(p));
        return decimals < 0 ? exact.doubleValue() : exact.setScale(decimals, RoundingMode.HALF_UP).doubleValue();
    }
}
