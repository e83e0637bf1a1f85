package deployer;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small model packages for tests, written as Java source the server compiles at deploy time. */
final class TestModels {

    private TestModels() {
    }

    /** A serving script {@code example.<className>} whose {@code load} and {@code score} run the given bodies. */
    static String script(String className, String loadBody, String scoreBody) {
        return script(className, loadBody, scoreBody, "");
    }

    /** The same, with more members (fields, a {@code healthy()} override …) in the class body. */
    static String script(String className, String loadBody, String scoreBody, String members) {
        return """
                package example;

                import deployer.spi.*;
                import java.util.*;

                public class %s implements Model {
                    private ModelContext context;

                    @Override
                    public void load(ModelContext context) throws Exception {
                        this.context = context;
                        %s
                    }

                    @Override
                    public Object score(Object input) throws Exception {
                        %s
                    }

                    %s
                }
                """.formatted(className, loadBody, scoreBody, members);
    }

    static String manifest(String name, String entry) {
        return "{\"name\": \"" + name + "\", \"entry\": \"" + entry + "\"}";
    }

    /** A package: deploy.json naming {@code example.<className>}, and the script. */
    static Map<String, byte[]> scripted(String name, String className, String loadBody, String scoreBody) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", bytes(manifest(name, "example." + className)));
        files.put("serving/" + className + ".java", bytes(script(className, loadBody, scoreBody)));
        return files;
    }

    /** The same, with more members (fields, nested classes …) in the model's class body. */
    static Map<String, byte[]> scripted(String name, String className, String loadBody, String scoreBody,
                                        String members) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", bytes(manifest(name, "example." + className)));
        files.put("serving/" + className + ".java", bytes(script(className, loadBody, scoreBody, members)));
        return files;
    }

    /** A model that answers {@code {"echo": input, "version": <its version>}}. */
    static Map<String, byte[]> echo(String name) {
        return scripted(name, "Echo", "",
                "return Map.of(\"echo\", input == null ? \"null\" : input, \"version\", context.version());");
    }

    /**
     * A package carrying the model as a prebuilt jar (no compile at deploy time), found through its service file;
     * {@code manifest} is the whole deploy.json.
     */
    static Map<String, byte[]> prebuilt(java.nio.file.Path work, String manifest, String className, String loadBody,
                                        String scoreBody, String members) throws java.io.IOException {
        byte[] jar = TestJars.jar(work, Map.of("example/" + className + ".java",
                        script(className, loadBody, scoreBody, members)),
                Map.of("META-INF/services/deployer.spi.Model", "example." + className + "\n"), java.util.List.of());
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", bytes(manifest));
        files.put("model.jar", jar);
        return files;
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
