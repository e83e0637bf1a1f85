import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Trains the iris model: multinomial logistic regression (softmax) on standardized features, by full-batch gradient
 * descent with L2 on the weights (not the intercepts). Reads {@code train/iris.csv}, writes
 * {@code model/coefficients.json} and prints the training accuracy and three documented predictions.
 *
 * <p>Run from the repository root: {@code java cells/iris/train/Train.java} (or pass the cell folder as the only
 * argument). JDK only. The weights start at zero, the rows are visited in file order and {@code StrictMath.exp} is
 * used, so the output file is the same byte for byte on every run and every machine.
 */
public class Train {

    static final String[] FEATURES = {"sepal_length", "sepal_width", "petal_length", "petal_width"};
    static final String[] CLASSES = {"setosa", "versicolor", "virginica"};
    static final double LEARNING_RATE = 0.5;
    static final double L2 = 0.001;
    static final int ITERATIONS = 5000;
    /** The serving script rounds probabilities to this many decimals (deploy.json "decimals"); so do we, to match. */
    static final int DECIMALS = 4;
    /** Rows of iris.csv (1-based, after the header) whose predictions the README documents. */
    static final int[] DOCUMENTED_ROWS = {1, 51, 101};

    public static void main(String[] args) throws IOException {
        Path cell = Path.of(args.length > 0 ? args[0] : "cells/iris");
        Path csv = cell.resolve("train/iris.csv");
        if (!Files.isRegularFile(csv)) {
            throw new IllegalStateException(csv + " not found: run from the repository root or pass the cell folder");
        }

        // 1. Read the data: 4 numbers and a species name per line.
        List<double[]> xs = new ArrayList<>();
        List<Integer> ys = new ArrayList<>();
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",");
            double[] x = new double[FEATURES.length];
            for (int j = 0; j < x.length; j++) {
                x[j] = Double.parseDouble(cells[j]);
            }
            xs.add(x);
            ys.add(List.of(CLASSES).indexOf(cells[FEATURES.length]));
        }
        int n = xs.size();
        int d = FEATURES.length;
        int k = CLASSES.length;

        // 2. Standardize: the serving script applies the same (x - mean) / scale before scoring.
        double[] means = new double[d];
        double[] scales = new double[d];
        for (int j = 0; j < d; j++) {
            double sum = 0;
            for (double[] x : xs) {
                sum += x[j];
            }
            means[j] = sum / n;
            double squares = 0;
            for (double[] x : xs) {
                squares += (x[j] - means[j]) * (x[j] - means[j]);
            }
            scales[j] = Math.sqrt(squares / n);
        }
        double[][] z = new double[n][d];
        for (int i = 0; i < n; i++) {
            z[i] = standardize(xs.get(i), means, scales);
        }

        // 3. Gradient descent on the mean cross-entropy + L2/2 * |W|^2, from zero weights.
        double[][] weights = new double[k][d];
        double[] intercepts = new double[k];
        for (int iteration = 0; iteration < ITERATIONS; iteration++) {
            double[][] gradW = new double[k][d];
            double[] gradB = new double[k];
            for (int i = 0; i < n; i++) {
                double[] p = probabilities(z[i], weights, intercepts);
                for (int c = 0; c < k; c++) {
                    double error = p[c] - (ys.get(i) == c ? 1 : 0);
                    gradB[c] += error / n;
                    for (int j = 0; j < d; j++) {
                        gradW[c][j] += error * z[i][j] / n;
                    }
                }
            }
            for (int c = 0; c < k; c++) {
                intercepts[c] -= LEARNING_RATE * gradB[c];
                for (int j = 0; j < d; j++) {
                    weights[c][j] -= LEARNING_RATE * (gradW[c][j] + L2 * weights[c][j]);
                }
            }
        }

        // 4. Training accuracy, and the rows we get wrong.
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int predicted = argmax(probabilities(z[i], weights, intercepts));
            if (predicted == ys.get(i)) {
                correct++;
            } else {
                System.out.printf(Locale.ROOT, "row %d %s: predicted %s, is %s%n", i + 1, format(xs.get(i)),
                        CLASSES[predicted], CLASSES[ys.get(i)]);
            }
        }
        double accuracy = (double) correct / n;
        System.out.printf(Locale.ROOT, "training accuracy: %d/%d = %.4f%n", correct, n, accuracy);

        // 5. The artefact the serving script reads.
        Path out = cell.resolve("model/coefficients.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, json(means, scales, weights, intercepts, n, accuracy), StandardCharsets.UTF_8);
        System.out.println("wrote " + out);

        // 6. What the served model answers for the documented rows (the README quotes these).
        for (int row : DOCUMENTED_ROWS) {
            double[] x = xs.get(row - 1);
            double[] p = probabilities(standardize(x, means, scales), weights, intercepts);
            StringBuilder probs = new StringBuilder();
            for (int c = 0; c < k; c++) {
                probs.append(c == 0 ? "" : ",").append('"').append(CLASSES[c]).append("\":").append(round(p[c]));
            }
            System.out.printf(Locale.ROOT, "row %d (%s) %s -> {\"class\":\"%s\",\"probabilities\":{%s}}%n",
                    row, CLASSES[ys.get(row - 1)], format(x), CLASSES[argmax(p)], probs);
        }
    }

    static double[] standardize(double[] x, double[] means, double[] scales) {
        double[] z = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            z[j] = (x[j] - means[j]) / scales[j];
        }
        return z;
    }

    /** Softmax of W z + b; the same arithmetic, in the same order, as IrisModel.probabilities. */
    static double[] probabilities(double[] z, double[][] weights, double[] intercepts) {
        double[] logits = new double[intercepts.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < logits.length; c++) {
            double sum = intercepts[c];
            for (int j = 0; j < z.length; j++) {
                sum += weights[c][j] * z[j];
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

    static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    static double round(double value) {
        return BigDecimal.valueOf(value).setScale(DECIMALS, RoundingMode.HALF_UP).doubleValue();
    }

    static String format(double[] x) {
        StringBuilder s = new StringBuilder("[");
        for (int j = 0; j < x.length; j++) {
            s.append(j == 0 ? "" : ",").append(x[j]);
        }
        return s.append(']').toString();
    }

    static String strings(String[] values) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            s.append(i == 0 ? "" : ", ").append('"').append(values[i]).append('"');
        }
        return s.append(']').toString();
    }

    /** Double.toString gives the shortest text that reads back to the same double, so serving sees the exact model. */
    static String numbers(double[] values) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            s.append(i == 0 ? "" : ", ").append(values[i]);
        }
        return s.append(']').toString();
    }

    static String json(double[] means, double[] scales, double[][] weights, double[] intercepts, int rows,
            double accuracy) {
        StringBuilder w = new StringBuilder();
        for (int c = 0; c < weights.length; c++) {
            w.append(c == 0 ? "" : ",\n").append("    ").append(numbers(weights[c]));
        }
        return "{\n"
                + "  \"model\": \"multinomial logistic regression on standardized features\",\n"
                + "  \"classes\": " + strings(CLASSES) + ",\n"
                + "  \"features\": " + strings(FEATURES) + ",\n"
                + "  \"means\": " + numbers(means) + ",\n"
                + "  \"scales\": " + numbers(scales) + ",\n"
                + "  \"weights\": [\n" + w + "\n  ],\n"
                + "  \"intercepts\": " + numbers(intercepts) + ",\n"
                + "  \"training\": {\"rows\": " + rows + ", \"learning_rate\": " + LEARNING_RATE + ", \"l2\": " + L2
                + ", \"iterations\": " + ITERATIONS + ", \"accuracy\": " + accuracy + "}\n"
                + "}\n";
    }
}
