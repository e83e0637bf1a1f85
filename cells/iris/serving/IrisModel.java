package example;

import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Request;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Serves the iris classifier trained by {@code train/Train.java}: multinomial logistic regression whose
 * coefficients live in {@code model/coefficients.json}.
 *
 * <p>Accepts one flower, {@code {"features":[5.1,3.5,1.4,0.2]}}, answered with
 * {@code {"class":"setosa","probabilities":{...}}}; or a batch, {@code {"instances":[[...],[...]]}}, answered with
 * {@code {"predictions":[...]}}. Features are in centimetres: sepal length, sepal width, petal length, petal width.
 */
public class IrisModel implements Model {

    /** What prepare hands to score: the rows to classify, and whether the client sent one row or a batch. */
    record Rows(List<double[]> rows, boolean batch) {
    }

    // Set once in load() and only read afterwards, so requests on many threads can share them.
    private List<String> classes;
    private List<String> features;
    private double[] means;
    private double[] scales;
    private double[][] weights;
    private double[] intercepts;
    private int decimals = -1;

    // Stage 1, once per cell start: read the artefact relative to the package folder, never the working directory.
    @Override
    public void load(ModelContext context) throws Exception {
        Path file = context.directory().resolve("model/coefficients.json");
        Map<?, ?> json = (Map<?, ?>) new JsonReader(Files.readString(file, StandardCharsets.UTF_8)).read();
        classes = strings(json.get("classes"));
        features = strings(json.get("features"));
        means = numbers(json.get("means"));
        scales = numbers(json.get("scales"));
        intercepts = numbers(json.get("intercepts"));
        List<?> rows = (List<?>) json.get("weights");
        weights = new double[rows.size()][];
        for (int c = 0; c < weights.length; c++) {
            weights[c] = numbers(rows.get(c));
        }
        // A wrong artefact should fail the deploy now, not the first request.
        int d = features.size();
        if (means.length != d || scales.length != d || weights.length != classes.size()
                || intercepts.length != classes.size()) {
            throw new IllegalStateException(file + ": sizes of classes, features, means, scales, weights disagree");
        }
        for (double[] row : weights) {
            if (row.length != d) {
                throw new IllegalStateException(file + ": every weights row needs " + d + " numbers");
            }
        }
        String rounding = context.properties().get("decimals");
        if (rounding != null) {
            try {
                decimals = Integer.parseInt(rounding.trim());
            } catch (NumberFormatException e) {
                decimals = -1;
            }
            if (decimals < 0 || decimals > 17) {
                throw new IllegalArgumentException("property decimals: " + rounding + " is not a whole number 0-17");
            }
        }
        context.logger().log(System.Logger.Level.INFO, "loaded {0} classes, {1} features from {2}",
                classes.size(), d, file);
    }

    // Stage 2: check the request's shape here, so a bad request gets a 400 that says what to fix.
    @Override
    public Object prepare(Request request) {
        return rows(request.json());
    }

    // Stage 3: one prediction per row. Also takes the raw JSON (e.g. a health sample scored without prepare).
    @Override
    public Object score(Object input) {
        Rows rows = input instanceof Rows r ? r : rows(input);
        List<Object> predictions = new ArrayList<>();
        for (double[] x : rows.rows()) {
            predictions.add(predict(x));
        }
        return rows.batch() ? Map.of("predictions", predictions) : predictions.get(0);
    }

    // Stage 4 is the default: the prediction map goes back as JSON.

    private Map<String, Object> predict(double[] x) {
        double[] p = probabilities(x);
        int best = 0;
        Map<String, Object> probabilities = new LinkedHashMap<>();
        for (int c = 0; c < p.length; c++) {
            probabilities.put(classes.get(c), round(p[c]));
            if (p[c] > p[best]) {
                best = c;
            }
        }
        Map<String, Object> prediction = new LinkedHashMap<>();
        prediction.put("class", classes.get(best));
        prediction.put("probabilities", probabilities);
        return prediction;
    }

    /** Softmax of W z + b on the standardized row; the same arithmetic, in the same order, as Train. */
    private double[] probabilities(double[] x) {
        double[] logits = new double[intercepts.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < logits.length; c++) {
            double sum = intercepts[c];
            for (int j = 0; j < x.length; j++) {
                sum += weights[c][j] * ((x[j] - means[j]) / scales[j]);
            }
            logits[c] = sum;
            max = Math.max(max, sum);
        }
        double total = 0;
        for (int c = 0; c < logits.length; c++) {
            logits[c] = StrictMath.exp(logits[c] - max);
            total += logits[c];
        }
        for (int c = 0; c < logits.length; c++) {
            logits[c] /= total;
        }
        return logits;
    }

    private double round(double p) {
        return decimals < 0 ? p : BigDecimal.valueOf(p).setScale(decimals, RoundingMode.HALF_UP).doubleValue();
    }

    private Rows rows(Object json) {
        if (json instanceof Map<?, ?> body && body.size() == 1) {
            // Through the Open Inference Protocol the input is a tensor: {"shape": [n, 4], "data": [n * 4 numbers]}.
            if (body.get("features") instanceof Map<?, ?> tensor && tensor.get("data") instanceof List<?> data) {
                int d = features.size();
                if (data.isEmpty() || data.size() % d != 0) {
                    throw new IllegalArgumentException("features tensor needs " + d + " numbers per row, got "
                            + data.size());
                }
                List<double[]> rows = new ArrayList<>();
                for (int i = 0; i < data.size(); i += d) {
                    rows.add(row(data.subList(i, i + d), "features.data[" + i + "]"));
                }
                return new Rows(rows, rows.size() > 1);
            }
            if (body.containsKey("features")) {
                return new Rows(List.of(row(body.get("features"), "features")), false);
            }
            if (body.get("instances") instanceof List<?> instances) {
                if (instances.isEmpty()) {
                    throw new IllegalArgumentException("instances is empty: send at least one row");
                }
                List<double[]> rows = new ArrayList<>();
                for (int i = 0; i < instances.size(); i++) {
                    rows.add(row(instances.get(i), "instances[" + i + "]"));
                }
                return new Rows(rows, true);
            }
        }
        throw new IllegalArgumentException("expected {\"features\":[" + String.join(",", features)
                + "]} or {\"instances\":[[...],[...]]}, numbers in cm");
    }

    private double[] row(Object value, String where) {
        if (!(value instanceof List<?> list) || list.size() != features.size()) {
            throw new IllegalArgumentException(where + " must be an array of " + features.size()
                    + " numbers: " + String.join(", ", features));
        }
        double[] x = new double[list.size()];
        for (int j = 0; j < x.length; j++) {
            // JSON integers arrive as Long, the rest as Double: Number covers both.
            if (!(list.get(j) instanceof Number number) || !Double.isFinite(number.doubleValue())) {
                throw new IllegalArgumentException(where + "[" + j + "] (" + features.get(j)
                        + ") must be a number, not " + list.get(j));
            }
            x[j] = number.doubleValue();
        }
        return x;
    }

    private static List<String> strings(Object value) {
        List<String> strings = new ArrayList<>();
        for (Object item : (List<?>) value) {
            strings.add((String) item);
        }
        return List.copyOf(strings);
    }

    private static double[] numbers(Object value) {
        List<?> list = (List<?>) value;
        double[] numbers = new double[list.size()];
        for (int i = 0; i < numbers.length; i++) {
            numbers[i] = ((Number) list.get(i)).doubleValue();
        }
        return numbers;
    }

    /**
     * Just enough JSON for our own artefact: objects, arrays, strings without escapes, numbers, true/false/null.
     * The cell sees only the JDK and deployer.spi, so there is no Jackson here.
     */
    static final class JsonReader {
        private final String text;
        private int at;

        JsonReader(String text) {
            this.text = text;
        }

        Object read() {
            Object value = value();
            skipSpace();
            if (at != text.length()) {
                throw error("end of text");
            }
            return value;
        }

        private Object value() {
            skipSpace();
            if (at >= text.length()) {
                throw error("a value");
            }
            char c = text.charAt(at);
            if (c == '{') {
                Map<String, Object> map = new LinkedHashMap<>();
                at++;
                if (!take('}')) {
                    do {
                        skipSpace();
                        String key = string();
                        expect(':');
                        map.put(key, value());
                    } while (take(','));
                    expect('}');
                }
                return map;
            }
            if (c == '[') {
                List<Object> list = new ArrayList<>();
                at++;
                if (!take(']')) {
                    do {
                        list.add(value());
                    } while (take(','));
                    expect(']');
                }
                return list;
            }
            if (c == '"') {
                return string();
            }
            for (String word : new String[] {"true", "false", "null"}) {
                if (text.startsWith(word, at)) {
                    at += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            int start = at;
            while (at < text.length() && "+-.eE0123456789".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            if (start == at) {
                throw error("a value");
            }
            return Double.parseDouble(text.substring(start, at));
        }

        private String string() {
            if (!take('"')) {
                throw error("a string");
            }
            int end = text.indexOf('"', at);
            if (end < 0) {
                throw error("a closing quote");
            }
            String s = text.substring(at, end);
            at = end + 1;
            return s;
        }

        private boolean take(char c) {
            skipSpace();
            if (at < text.length() && text.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!take(c)) {
                throw error("'" + c + "'");
            }
        }

        private void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private IllegalStateException error(String expected) {
            return new IllegalStateException("coefficients.json: expected " + expected + " at character " + at);
        }
    }
}
