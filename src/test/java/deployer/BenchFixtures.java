package deployer;

import deployer.testing.Packages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** The test fixtures the benchmark (deployer.bench) builds its packages with: a trivial model, as a real jar. */
public final class BenchFixtures {

    /** The trivial model's class, found through its service file in the jar. */
    public static final String TRIVIAL_CLASS = "example.Trivial";
    /** A request the trivial model scores. */
    public static final String TRIVIAL_REQUEST = "{\"features\": [5.1, 3.5, 1.4, 0.2]}";

    private static final String TRIVIAL_SCORE = """
            Map<?, ?> m = (Map<?, ?>) input;
            double sum = 0;
            for (Object f : (List<?>) m.get("features")) {
                sum += ((Number) f).doubleValue();
            }
            return Map.of("score", sum, "label", sum > 10 ? "big" : "small");
            """;

    /** The trivial model's sum, over {@code features} given as a list or as an Open Inference Protocol tensor. */
    private static final String TENSOR_SCORE = """
            Map<?, ?> m = (Map<?, ?>) input;
            Object features = m.get("features");
            List<?> values = features instanceof Map<?, ?> tensor ? (List<?>) tensor.get("data") : (List<?>) features;
            double sum = 0;
            for (Object f : values) {
                sum += ((Number) f).doubleValue();
            }
            return Map.of("score", sum, "label", sum > 10 ? "big" : "small");
            """;

    /** The same four features as {@link #TRIVIAL_REQUEST}, as an Open Inference Protocol inference request. */
    public static final String TENSOR_REQUEST = "{\"inputs\": [{\"name\": \"features\", \"shape\": [4],"
            + " \"datatype\": \"FP64\", \"data\": [5.1, 3.5, 1.4, 0.2]}]}";

    /** A model that answers {@code TRIVIAL_REQUEST} on {@code /predict} and {@code TENSOR_REQUEST} on {@code /v2}. */
    public static byte[] tensorPackage(Path work, String name) throws IOException {
        return Packages.zip(TestModels.prebuilt(work, "{\"name\": \"" + name + "\"}", "Tensor", "", TENSOR_SCORE,
                ""));
    }

    /** A model that counts the bytes of its body, without parsing them: what the heap holds is the server's. */
    public static byte[] counterPackage(Path work, String name) throws IOException {
        return Packages.zip(TestModels.prebuilt(work, "{\"name\": \"" + name + "\"}", "Counter", "",
                "return input;", """
                        @Override
                        public Object prepare(Request request) {
                            return request.body().length;
                        }
                        """));
    }

    private BenchFixtures() {
    }

    /** deploy.json and model.jar of the trivial model named {@code name}. */
    public static Map<String, byte[]> trivialFiles(Path work, String name) throws IOException {
        return TestModels.prebuilt(work, "{\"name\": \"" + name + "\"}", "Trivial", "", TRIVIAL_SCORE, "");
    }

    /** The trivial model's package as a zip. */
    public static byte[] trivialPackage(Path work, String name) throws IOException {
        return Packages.zip(trivialFiles(work, name));
    }
}
