package serving;

import deployer.spi.Model;
import deployer.spi.ModelContext;
import deployer.spi.Reply;
import deployer.spi.Request;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.tribuo.Example;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;

/**
 * The serving script of {{name}}: a classification model trained and saved with Oracle Tribuo
 * (model.serializeToFile(path)), loaded from model/model.tribuo with Tribuo's jars in lib/. The sample model is a
 * logistic regression on the iris data; put yours in its place (another trainer's jar goes in lib/ too).
 *
 * Request:  {"features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}
 * Reply:    {"class": "setosa", "probabilities": {"setosa": 0.9909, "versicolor": 0.0091, "virginica": 0.0}}
 */
public class {{class}} implements Model {

    // Set once in load(); a Tribuo model predicts safely on many threads at once.
    private org.tribuo.Model<Label> model;
    private ImmutableFeatureMap features;
    private int decimals = -1;

    // Stage 1 - LOAD, once when the model starts: read the saved model. Paths are relative to context.directory().
    // Checking its type here fails a wrong artefact at deploy time, not at the first request.
    @Override
    @SuppressWarnings("unchecked")
    public void load(ModelContext context) throws Exception {
        Path file = context.directory().resolve("model/model.tribuo");
        org.tribuo.Model<?> loaded = org.tribuo.Model.deserializeFromFile(file);
        if (!loaded.validate(Label.class)) {
            throw new IllegalStateException(file + " does not predict labels (a Tribuo classification model)");
        }
        model = (org.tribuo.Model<Label>) loaded;
        features = model.getFeatureIDMap();
        String rounding = context.properties().get("decimals");
        decimals = rounding == null ? -1 : Integer.parseInt(rounding.trim());
        context.logger().log(System.Logger.Level.INFO, "{0}: {1} features, classes {2}", file, features.size(),
                model.getOutputIDInfo().getDomain());
    }

    // Stage 2 - PREPARE, per request: a Tribuo Example with the named features the model was trained on.
    // Throw IllegalArgumentException for input you cannot use: the caller gets a 400 with your message.
    @Override
    public Object prepare(Request request) {
        return example(request.json());
    }

    // Stage 3 - SCORE, per request: Tribuo's prediction, a label and a score (probability) for every class.
    // The health sample of deploy.json comes here without prepare(), so accept the raw JSON too.
    @Override
    @SuppressWarnings("unchecked")
    public Object score(Object prepared) {
        Example<Label> example = prepared instanceof Example<?> ready ? (Example<Label>) ready : example(prepared);
        return model.predict(example);
    }

    // Stage 4 - REPLY, per request: the predicted class and every class's probability, as JSON.
    @Override
    @SuppressWarnings("unchecked")
    public Reply reply(Object prediction) {
        Prediction<Label> p = (Prediction<Label>) prediction;
        Map<String, Object> probabilities = new LinkedHashMap<>();
        new TreeMap<>(p.getOutputScores()).forEach((name, label) -> probabilities.put(name, round(label.getScore())));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("class", p.getOutput().getLabel());
        answer.put("probabilities", probabilities);
        return Reply.json(answer);
    }

    private Example<Label> example(Object json) {
        if (!(json instanceof Map<?, ?> body) || !(body.get("features") instanceof Map<?, ?> named)) {
            throw new IllegalArgumentException("expected {\"features\": {\"name\": number, ...}} with "
                    + features.keySet());
        }
        String[] names = new String[features.size()];
        double[] values = new double[names.length];
        for (int i = 0; i < names.length; i++) {
            names[i] = features.get(i).getName();
            if (!(named.get(names[i]) instanceof Number n)) {
                throw new IllegalArgumentException("features." + names[i] + " must be a number; send "
                        + features.keySet());
            }
            values[i] = n.doubleValue();
        }
        // The true label is unknown when predicting: Tribuo's placeholder for it.
        return new ArrayExample<>(LabelFactory.UNKNOWN_LABEL, names, values);
    }

    private double round(double p) {
        return decimals < 0 ? p : BigDecimal.valueOf(p).setScale(decimals, RoundingMode.HALF_UP).doubleValue();
    }
}
