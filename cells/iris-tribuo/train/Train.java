import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.tribuo.Example;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.linear.LinearSGDModel;
import org.tribuo.classification.sgd.linear.LogisticRegressionTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;

/**
 * Trains the model of two examples: a Tribuo logistic regression on {@code cells/iris/train/iris.csv}, saved as
 * {@code cells/iris-tribuo/model/model.tribuo} (Tribuo's protobuf format), and exported with Tribuo's ONNX export
 * to {@code cells/iris-onnx/model/model.onnx}, with {@code model.properties} beside it naming the ONNX input's
 * feature order and output's class order (ONNX graphs carry neither).
 *
 * <p>The Maven build runs it (phase generate-resources) with Tribuo, its ONNX export and ONNX Runtime on the class
 * path: {@code java -cp ... cells/iris-tribuo/train/Train.java REPOSITORY_ROOT}. The trainer is Tribuo's default
 * {@code LogisticRegressionTrainer} (AdaGrad, 5 epochs, seed 12345) on the rows in file order, so the weights are the
 * same on every run; the files differ between runs only in the provenance Tribuo records (time, host, JVM).
 * It prints the training accuracy and checks that ONNX Runtime, scoring the exported file, agrees with Tribuo.
 */
public class Train {

    static final String[] FEATURES = {"sepal_length", "sepal_width", "petal_length", "petal_width"};

    public static void main(String[] args) throws Exception {
        Logger.getLogger("org.tribuo").setLevel(Level.WARNING);
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        Path csv = root.resolve("cells/iris/train/iris.csv");
        if (!Files.isRegularFile(csv)) {
            throw new IllegalStateException(csv + " not found: pass the repository root");
        }

        // 1. Read the data: 4 measurements and a species per line, named the way requests will name them.
        LabelFactory labels = new LabelFactory();
        MutableDataset<Label> data = new MutableDataset<>(new SimpleDataSourceProvenance("cells/iris/train/iris.csv",
                OffsetDateTime.parse("2025-01-01T00:00:00Z"), labels), labels);
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",");
            double[] x = new double[FEATURES.length];
            for (int j = 0; j < x.length; j++) {
                x[j] = Double.parseDouble(cells[j]);
            }
            data.add(new ArrayExample<>(new Label(cells[FEATURES.length]), FEATURES, x));
        }

        // 2. Train, and count what the model gets right on its own training rows.
        LinearSGDModel model = (LinearSGDModel) new LogisticRegressionTrainer().train(data);
        int correct = 0;
        for (Example<Label> example : data) {
            if (model.predict(example).getOutput().getLabel().equals(example.getOutput().getLabel())) {
                correct++;
            }
        }
        System.out.printf(Locale.ROOT, "tribuo logistic regression, training accuracy: %d/%d = %.4f%n",
                correct, data.size(), (double) correct / data.size());

        // 3. Save it twice: Tribuo's own format, and ONNX.
        Path tribuo = root.resolve("cells/iris-tribuo/model/model.tribuo");
        Files.createDirectories(tribuo.getParent());
        model.serializeToFile(tribuo);
        Path onnx = root.resolve("cells/iris-onnx/model/model.onnx");
        Files.createDirectories(onnx.getParent());
        model.saveONNXModel("dev.deployer.iris", 1, onnx);
        Files.writeString(onnx.resolveSibling("model.properties"), properties(model), StandardCharsets.UTF_8);
        // the same graph for the no-code example, which serves it with "runtime": "onnx"
        Path nocode = root.resolve("cells/iris-onnx-nocode/model/model.onnx");
        Files.createDirectories(nocode.getParent());
        Files.copy(onnx, nocode, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.println("wrote " + tribuo + " (" + Files.size(tribuo) + " bytes) and " + onnx + " ("
                + Files.size(onnx) + " bytes)");

        // 4. The ONNX file must answer what Tribuo answers, row for row.
        System.out.printf(Locale.ROOT, "onnx runtime vs tribuo, largest probability difference over %d rows: %.2e%n",
                data.size(), largestDifference(model, data, onnx));
    }

    /** Tribuo numbers features by sorted name and classes in its own order: the ONNX graph uses both. */
    static String properties(LinearSGDModel model) {
        ImmutableFeatureMap features = model.getFeatureIDMap();
        ImmutableOutputInfo<Label> outputs = model.getOutputIDInfo();
        List<String> featureOrder = new ArrayList<>();
        for (int i = 0; i < features.size(); i++) {
            featureOrder.add(features.get(i).getName());
        }
        List<String> labelOrder = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            labelOrder.add(outputs.getOutput(i).getLabel());
        }
        return "# The order of model.onnx's input and output columns, written by cells/iris-tribuo/train/Train.java\n"
                + "features=" + String.join(",", featureOrder) + "\n"
                + "labels=" + String.join(",", labelOrder) + "\n";
    }

    static double largestDifference(LinearSGDModel model, MutableDataset<Label> data, Path onnx)
            throws Exception {
        ImmutableFeatureMap features = model.getFeatureIDMap();
        ImmutableOutputInfo<Label> outputs = model.getOutputIDInfo();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double largest = 0;
        try (OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            for (Example<Label> example : data) {
                float[][] row = new float[1][features.size()];
                example.forEach(f -> row[0][features.getID(f.getName())] = (float) f.getValue());
                float[] p;
                try (OnnxTensor input = OnnxTensor.createTensor(env, row);
                     OrtSession.Result result = session.run(Map.of("input", input))) {
                    p = ((float[][]) result.get(0).getValue())[0];
                }
                Prediction<Label> expected = model.predict(example);
                for (int c = 0; c < p.length; c++) {
                    double tribuo = expected.getOutputScores().get(outputs.getOutput(c).getLabel()).getScore();
                    largest = Math.max(largest, Math.abs(tribuo - p[c]));
                }
            }
        }
        return largest;
    }
}
