package example;

import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Request;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;

/**
 * Serves {@code model/model.tribuo}: a Tribuo logistic regression trained on the iris data by
 * {@code train/Train.java}, loaded as Tribuo saved it.
 *
 * <p>Accepts {@code {"features":[5.1,3.5,1.4,0.2]}} (sepal length, sepal width, petal length, petal width, in cm),
 * answered with {@code {"class":"setosa","probabilities":{...}}}; or {@code {"instances":[[...],[...]]}}, answered
 * with {@code {"predictions":[...]}}.
 */
public class IrisTribuoModel implements Model {

    /** The names the model was trained with, in the order clients send the numbers. */
    static final String[] FEATURES = {"sepal_length", "sepal_width", "petal_length", "petal_width"};

    /** What prepare hands to score: the examples to classify, and whether the client sent one or a batch. */
    record Rows(List<Example<Label>> examples, boolean batch) {
    }

    // Set once in load(); Tribuo models are safe to call from many threads once loaded.
    private org.tribuo.Model<Label> model;
    private int decimals = -1;

    // Stage 1, once per cell start: read the saved model, and make sure it predicts labels.
    @Override
    @SuppressWarnings("unchecked")
    public void load(ModelContext context) throws Exception {
        Path file = context.directory().resolve("model/model.tribuo");
        org.tribuo.Model<?> loaded = org.tribuo.Model.deserializeFromFile(file);
        if (!loaded.validate(Label.class)) {
            throw new IllegalStateException(file + " is not a classification model");
        }
        model = (org.tribuo.Model<Label>) loaded;
        String rounding = context.properties().get("decimals");
        decimals = rounding == null ? -1 : Integer.parseInt(rounding.trim());
        context.logger().log(System.Logger.Level.INFO, "loaded {0}: {1} features, classes {2}", file,
                model.getFeatureIDMap().size(), model.getOutputIDInfo().getDomain());
    }

    // Stage 2, per request: check the shape and make one Tribuo Example per row; a bad request gets a 400.
    @Override
    public Object prepare(Request request) {
        return rows(request.json());
    }

    // Stage 3, per request: Tribuo predicts a label and a score (probability) for every class.
    @Override
    public Object score(Object input) {
        Rows rows = input instanceof Rows r ? r : rows(input);
        List<Object> predictions = new ArrayList<>();
        for (Prediction<Label> prediction : model.predict(rows.examples())) {
            Map<String, Object> probabilities = new LinkedHashMap<>();
            new TreeMap<>(prediction.getOutputScores()).forEach((name, label) ->
                    probabilities.put(name, round(label.getScore())));
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("class", prediction.getOutput().getLabel());
            answer.put("probabilities", probabilities);
            predictions.add(answer);
        }
        return rows.batch() ? Map.of("predictions", predictions) : predictions.get(0);
    }

    // Stage 4 is the default: the prediction map goes back as JSON.

    private double round(double p) {
        return decimals < 0 ? p : BigDecimal.valueOf(p).setScale(decimals, RoundingMode.HALF_UP).doubleValue();
    }

    private Rows rows(Object json) {
        if (json instanceof Map<?, ?> body && body.size() == 1) {
            if (body.containsKey("features")) {
                return new Rows(List.of(example(body.get("features"), "features")), false);
            }
            if (body.get("instances") instanceof List<?> instances && !instances.isEmpty()) {
                List<Example<Label>> examples = new ArrayList<>();
                for (int i = 0; i < instances.size(); i++) {
                    examples.add(example(instances.get(i), "instances[" + i + "]"));
                }
                return new Rows(examples, true);
            }
        }
        throw new IllegalArgumentException("expected {\"features\":[sepal_length,sepal_width,petal_length,"
                + "petal_width]} or {\"instances\":[[...],[...]]}, numbers in cm");
    }

    private static Example<Label> example(Object value, String where) {
        if (!(value instanceof List<?> list) || list.size() != FEATURES.length) {
            throw new IllegalArgumentException(where + " must be an array of " + FEATURES.length + " numbers: "
                    + String.join(", ", FEATURES));
        }
        double[] x = new double[FEATURES.length];
        for (int j = 0; j < x.length; j++) {
            if (!(list.get(j) instanceof Number number) || !Double.isFinite(number.doubleValue())) {
                throw new IllegalArgumentException(where + "[" + j + "] (" + FEATURES[j] + ") must be a number");
            }
            x[j] = number.doubleValue();
        }
        // The true label is unknown at prediction time; Tribuo's placeholder for it.
        return new ArrayExample<>(LabelFactory.UNKNOWN_LABEL, FEATURES, x);
    }
}
