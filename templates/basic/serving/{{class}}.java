package serving;

import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Reply;
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
 * The serving script of {{name}}: a softmax (multinomial logistic) classifier whose weights are in
 * model/weights.csv, scored in plain Java (this script sees the JDK and deployer.spi, nothing else).
 *
 * Request:  {"features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}
 * Reply:    {"class": "setosa", "probabilities": {"setosa": 0.9973, "versicolor": 0.0027, "virginica": 0.0}}
 *
 * The server calls the four methods below in order: load once, then prepare, score and reply for every request.
 */
public class {{class}} implements Model {

    // What load() reads from the artefact. Written once, then only read: many requests score at the same time.
    private final List<String> classes = new ArrayList<>();
    private final List<double[]> weights = new ArrayList<>();   // per class: intercept, then one weight per feature
    private List<String> features;
    private int decimals = -1;

    // Stage 1 - LOAD, once when the model starts: read your artefacts.
    // Paths are relative to context.directory(), the folder of the uploaded package (never the working directory).
    // Throwing here fails the deploy with your message, and the version before keeps serving.
    @Override
    public void load(ModelContext context) throws Exception {
        Path file = context.directory().resolve("model/weights.csv");
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] cells = line.split(",");
            if (features == null) {                          // the header: class,intercept,feature names...
                features = List.of(cells).subList(2, cells.length);
                continue;
            }
            double[] row = new double[cells.length - 1];
            for (int i = 1; i < cells.length; i++) {
                row[i - 1] = Double.parseDouble(cells[i]);
            }
            classes.add(cells[0]);
            weights.add(row);
        }
        // Properties come from "properties" in deploy.json: settings you can change without touching code.
        String rounding = context.properties().get("decimals");
        decimals = rounding == null ? -1 : Integer.parseInt(rounding.trim());
        context.logger().log(System.Logger.Level.INFO, "{0}: classes {1}, features {2}", file, classes, features);
    }

    // Stage 2 - PREPARE, per request: turn the request into the numbers the model needs.
    // request.json() is the parsed body (objects are Maps, arrays Lists, numbers Long or Double).
    // Throw IllegalArgumentException for input you cannot use: the caller gets a 400 with your message.
    @Override
    public Object prepare(Request request) {
        return features(request.json());
    }

    // Stage 3 - SCORE, per request and possibly on many threads at once: compute the prediction.
    // The health sample of deploy.json goes through prepare() too, like every request; accepting raw JSON here as
    // well keeps score() easy to call from a unit test.
    @Override
    public Object score(Object input) {
        double[] x = input instanceof double[] ready ? ready : features(input);
        double[] scores = new double[classes.size()];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < scores.length; c++) {
            double[] w = weights.get(c);
            double sum = w[0];
            for (int j = 0; j < x.length; j++) {
                sum += w[j + 1] * x[j];
            }
            scores[c] = sum;
            max = Math.max(max, sum);
        }
        double total = 0;
        for (int c = 0; c < scores.length; c++) {                // softmax: scores -> probabilities summing to 1
            scores[c] = Math.exp(scores[c] - max);
            total += scores[c];
        }
        for (int c = 0; c < scores.length; c++) {
            scores[c] /= total;
        }
        return scores;
    }

    // Stage 4 - REPLY, per request: turn the prediction into the answer. Maps, lists, strings and numbers go
    // out as JSON; Reply.bytes(contentType, bytes) sends anything else, .status(code) another HTTP status.
    @Override
    public Reply reply(Object prediction) {
        double[] p = (double[]) prediction;
        int best = 0;
        Map<String, Object> probabilities = new LinkedHashMap<>();
        for (int c = 0; c < p.length; c++) {
            probabilities.put(classes.get(c), round(p[c]));
            best = p[c] > p[best] ? c : best;
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("class", classes.get(best));
        answer.put("probabilities", probabilities);
        return Reply.json(answer);
    }

    private double[] features(Object json) {
        if (!(json instanceof Map<?, ?> body) || !(body.get("features") instanceof Map<?, ?> named)) {
            throw new IllegalArgumentException("expected {\"features\": {\"name\": number, ...}} with " + features);
        }
        double[] x = new double[features.size()];
        for (int j = 0; j < x.length; j++) {
            if (!(named.get(features.get(j)) instanceof Number n)) {
                throw new IllegalArgumentException("features." + features.get(j) + " must be a number; send "
                        + features);
            }
            x[j] = n.doubleValue();
        }
        return x;
    }

    private double round(double p) {
        return decimals < 0 ? p : BigDecimal.valueOf(p).setScale(decimals, RoundingMode.HALF_UP).doubleValue();
    }
}
