package deployer.pack;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import deployer.core.DeployerException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code deploy.json} into a {@link Manifest}, field by field, so that every mistake is reported with the
 * field's name as the user wrote it. A JSON {@code null} for an optional field means "absent". Property values may be
 * numbers or booleans too; they are turned into their JSON text ({@code 0.5} becomes {@code "0.5"}) because that is
 * what a user who wrote them meant.
 */
final class ManifestParser {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final List<String> TOP_KEYS =
            List.of("name", "entry", "description", "files", "properties", "health", "limits", "inputs", "outputs",
                    "runtime", "model", "batching", "payloads", "isolation", "jvm");
    private static final List<String> JVM_KEYS = List.of("heap_mb");
    private static final List<String> TENSOR_KEYS = List.of("name", "datatype", "shape");
    private static final List<String> HEALTH_KEYS =
            List.of("sample", "attempts", "first_delay_ms", "backoff", "timeout_ms");
    private static final List<String> BATCHING_KEYS = List.of("max_batch_size", "max_delay_ms");
    private static final List<String> LIMITS_KEYS = List.of("max_concurrent", "timeout_ms", "load_timeout_ms",
            "max_body_mb", "body_timeout_ms");

    private static final String ID = "\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*";
    private static final Pattern CLASS_NAME = Pattern.compile(ID + "(\\." + ID + ")*");

    private ManifestParser() {
    }

    static Manifest parse(byte[] json) {
        JsonNode root = readTree(json);
        if (root.isMissingNode()) {
            throw fail("the file is empty; it needs at least {\"name\": \"my-model\"}");
        }
        if (!root.isObject()) {
            throw fail("must be a JSON object like {\"name\": \"my-model\"}, not " + show(root));
        }
        checkKeys(root, "", TOP_KEYS);
        payloads(root.get("payloads"));
        return new Manifest(
                name(root.get("name")),
                entry(root.get("entry")),
                string(root.get("description"), "description"),
                files(root.get("files")),
                properties(root.get("properties")),
                health(root.get("health")),
                limits(root.get("limits")),
                tensors(root.get("inputs"), "inputs"),
                tensors(root.get("outputs"), "outputs"),
                runtime(root),
                model(root.get("model")),
                batching(root.get("batching")),
                isolation(root.get("isolation"), root.get("jvm")));
    }

    /** {@code isolation}: "classloader" (default) or "process"; {@code jvm} ({"heap_mb": 512}) only with "process". */
    private static Manifest.Isolation isolation(JsonNode mode, JsonNode jvm) {
        String isolation = Manifest.Isolation.CLASSLOADER;
        if (!absent(mode)) {
            if (!mode.isTextual() || !Manifest.Isolation.MODES.contains(mode.textValue())) {
                throw fail("isolation must be one of " + String.join(", ", Manifest.Isolation.MODES) + ", not "
                        + show(mode));
            }
            isolation = mode.textValue();
        }
        if (absent(jvm)) {
            return new Manifest.Isolation(isolation, 0);
        }
        if (!jvm.isObject()) {
            throw fail("jvm must be an object like {\"heap_mb\": 512}, not " + show(jvm));
        }
        if (!Manifest.Isolation.PROCESS.equals(isolation)) {
            throw fail("jvm applies to a cell in a process of its own: add \"isolation\": \"process\", or remove"
                    + " \"jvm\"");
        }
        checkKeys(jvm, "jvm.", JVM_KEYS);
        return new Manifest.Isolation(isolation, (int) whole(jvm.get("heap_mb"), Manifest.Isolation.HEAP_MB, 0));
    }

    /** {@code batching}: {"max_batch_size": 32, "max_delay_ms": 2}, both required. */
    private static Manifest.Batching batching(JsonNode node) {
        if (absent(node)) {
            return null;
        }
        if (!node.isObject()) {
            throw fail("batching must be an object like {\"max_batch_size\": 32, \"max_delay_ms\": 2}, not "
                    + show(node));
        }
        checkKeys(node, "batching.", BATCHING_KEYS);
        for (String key : BATCHING_KEYS) {
            if (absent(node.get(key))) {
                throw fail("batching." + key + " is required when batching is given, e.g. {\"max_batch_size\": 32,"
                        + " \"max_delay_ms\": 2}");
            }
        }
        return new Manifest.Batching(
                (int) whole(node.get("max_batch_size"), Manifest.Batching.MAX_BATCH_SIZE, 1),
                whole(node.get("max_delay_ms"), Manifest.Batching.MAX_DELAY_MS, 0));
    }

    /**
     * {@code payloads}: {"sample": 0.1, "redact": ["ssn"]} (DESIGN 1.11), checked here; the traffic package reads it
     * from the stored manifest of the active version.
     */
    private static void payloads(JsonNode node) {
        if (absent(node)) {
            return;
        }
        if (!node.isObject()) {
            throw fail("payloads must be an object like {\"sample\": 0.1, \"redact\": [\"ssn\"]}, not " + show(node));
        }
        checkKeys(node, "payloads.", List.of("sample", "redact"));
        JsonNode sample = node.get("sample");
        if (sample == null || !sample.isNumber() || sample.asDouble() < 0 || sample.asDouble() > 1) {
            throw fail("payloads.sample must be a number from 0 to 1 (the share of requests recorded), not "
                    + (sample == null ? "missing" : show(sample)));
        }
        JsonNode redact = node.get("redact");
        if (!absent(redact)) {
            if (!redact.isArray()) {
                throw fail("payloads.redact must be a list of field names like [\"ssn\"], not " + show(redact));
            }
            for (int i = 0; i < redact.size(); i++) {
                JsonNode field = redact.get(i);
                if (!field.isTextual() || field.textValue().isEmpty() || field.textValue().contains(",")) {
                    throw fail("payloads.redact[" + i + "] must be a field name, not " + show(field));
                }
            }
        }
    }

    /** {@code runtime}: one of {@link Manifest#RUNTIMES}; {@code entry} is then not allowed (DESIGN 1.9). */
    private static String runtime(JsonNode root) {
        JsonNode node = root.get("runtime");
        if (absent(node)) {
            return null;
        }
        if (!node.isTextual() || !Manifest.RUNTIMES.contains(node.textValue())) {
            throw fail("runtime must be one of " + String.join(", ", Manifest.RUNTIMES) + ", not " + show(node));
        }
        if (!absent(root.get("entry"))) {
            throw fail("entry is not allowed with runtime " + node.textValue() + ": the runtime serves the model,"
                    + " so remove \"entry\" (or remove \"runtime\" to serve your own class)");
        }
        return node.textValue();
    }

    /** {@code model}: a relative path inside the package, like {@code model/model.onnx}. */
    private static String model(JsonNode node) {
        if (absent(node)) {
            return null;
        }
        if (!node.isTextual() || node.textValue().isBlank()) {
            throw fail("model must be a path inside the package like \"model/model.onnx\", not " + show(node));
        }
        String path = node.textValue();
        if (path.startsWith("/") || path.contains("\\") || List.of(path.split("/")).contains("..")) {
            throw fail("model must be a relative path inside the package like \"model/model.onnx\", not "
                    + show(node));
        }
        return path;
    }

    /** {@code inputs} / {@code outputs}: [{"name": "features", "datatype": "FP64", "shape": [-1, 4]}, …]. */
    private static List<Manifest.Tensor> tensors(JsonNode node, String field) {
        if (absent(node)) {
            return null;
        }
        String example = " like [{\"name\": \"features\", \"datatype\": \"FP64\", \"shape\": [-1, 4]}]";
        if (!node.isArray()) {
            throw fail(field + " must be an array of tensors" + example + ", not " + show(node));
        }
        List<Manifest.Tensor> tensors = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode tensor = node.get(i);
            String at = field + "[" + i + "]";
            if (!tensor.isObject()) {
                throw fail(at + " must be an object" + example + ", not " + show(tensor));
            }
            checkKeys(tensor, at + ".", TENSOR_KEYS);
            JsonNode name = tensor.get("name");
            if (absent(name) || !name.isTextual() || name.textValue().isBlank()) {
                throw fail(at + ".name must be a non-empty string, not " + shown(name));
            }
            JsonNode datatype = tensor.get("datatype");
            if (absent(datatype) || !datatype.isTextual() || !Manifest.DATATYPES.contains(datatype.textValue())) {
                throw fail(at + ".datatype must be one of " + Manifest.DATATYPES + ", not " + shown(datatype));
            }
            JsonNode shape = tensor.get("shape");
            List<Long> dims = new ArrayList<>();
            if (absent(shape) || !shape.isArray()) {
                throw fail(at + ".shape must be an array of whole numbers (-1 for a variable size), not "
                        + shown(shape));
            }
            for (JsonNode dim : shape) {
                if (!dim.isIntegralNumber() || !dim.canConvertToLong() || dim.longValue() < -1) {
                    throw fail(at + ".shape must hold whole numbers of -1 or more, not " + show(dim));
                }
                dims.add(dim.longValue());
            }
            tensors.add(new Manifest.Tensor(name.textValue(), datatype.textValue(), dims));
        }
        return tensors;
    }

    private static JsonNode readTree(byte[] json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            // Both the parser's errors and FAIL_ON_TRAILING_TOKENS (a databind error) land here, with a location.
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String reason = e.getOriginalMessage();
            if (reason.startsWith("Duplicate field")) {
                throw fail(reason.replace("Duplicate field", "duplicate key") + where);
            }
            if (reason.startsWith("Trailing token")) {
                reason = "more content after the closing }";
            }
            throw fail("not valid JSON" + where + ": " + reason.lines().findFirst().orElse(""));
        } catch (IOException e) {
            // Reading a byte array fails only through the parser, handled above; this is for completeness.
            throw fail("not valid JSON: " + e.getMessage());
        }
    }

    private static String name(JsonNode node) {
        if (absent(node)) {
            throw fail("name is required, e.g. \"name\": \"iris\"");
        }
        if (!node.isTextual()) {
            throw fail("name must be a string like \"iris\", not " + show(node));
        }
        if (!Manifest.NAME.matcher(node.textValue()).matches()) {
            throw fail("model name '" + node.textValue() + "' must match " + Manifest.NAME.pattern());
        }
        return node.textValue();
    }

    private static String entry(JsonNode node) {
        if (absent(node)) {
            return null;
        }
        if (!node.isTextual() || !CLASS_NAME.matcher(node.textValue()).matches()) {
            throw fail("entry must be a Java class name like \"example.IrisModel\", not " + show(node));
        }
        return node.textValue();
    }

    private static String string(JsonNode node, String field) {
        if (absent(node)) {
            return null;
        }
        if (!node.isTextual()) {
            throw fail(field + " must be a string, not " + show(node));
        }
        return node.textValue();
    }

    private static List<String> files(JsonNode node) {
        if (absent(node)) {
            return null;
        }
        if (!node.isArray()) {
            throw fail("files must be an array of path patterns like [\"model/*\", \"serving/*.java\"], not "
                    + show(node));
        }
        List<String> files = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode file = node.get(i);
            if (!file.isTextual() || file.textValue().isBlank()) {
                throw fail("files[" + i + "] must be a non-empty string like \"model/*\", not " + show(file));
            }
            files.add(file.textValue());
        }
        return files;
    }

    private static Map<String, String> properties(JsonNode node) {
        if (absent(node)) {
            return null;
        }
        if (!node.isObject()) {
            throw fail("properties must be an object of strings like {\"threshold\": \"0.5\"}, not " + show(node));
        }
        Map<String, String> properties = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> property : node.properties()) {
            JsonNode value = property.getValue();
            if (!value.isTextual() && !value.isNumber() && !value.isBoolean()) {
                throw fail("properties." + property.getKey() + " must be a string, not " + show(value));
            }
            properties.put(property.getKey(), value.asText());
        }
        return properties;
    }

    private static Manifest.Health health(JsonNode node) {
        if (absent(node)) {
            return null;
        }
        if (!node.isObject()) {
            throw fail("health must be an object like {\"attempts\": 5}, not " + show(node));
        }
        checkKeys(node, "health.", HEALTH_KEYS);
        JsonNode sample = node.get("sample");
        return new Manifest.Health(
                sample == null || sample.isNull() ? null : toJdk(sample),
                (int) whole(node.get("attempts"), Manifest.Health.ATTEMPTS, Manifest.Health.DEFAULT_ATTEMPTS),
                whole(node.get("first_delay_ms"), Manifest.Health.FIRST_DELAY_MS,
                        Manifest.Health.DEFAULT_FIRST_DELAY_MS),
                number(node.get("backoff"), Manifest.Health.BACKOFF, Manifest.Health.DEFAULT_BACKOFF),
                whole(node.get("timeout_ms"), Manifest.Health.TIMEOUT_MS, Manifest.Health.DEFAULT_TIMEOUT_MS));
    }

    private static Manifest.Limits limits(JsonNode node) {
        if (absent(node)) {
            return null;
        }
        if (!node.isObject()) {
            throw fail("limits must be an object like {\"max_concurrent\": 64}, not " + show(node));
        }
        checkKeys(node, "limits.", LIMITS_KEYS);
        return new Manifest.Limits(
                (int) whole(node.get("max_concurrent"), Manifest.Limits.MAX_CONCURRENT,
                        Manifest.Limits.DEFAULT_MAX_CONCURRENT),
                whole(node.get("timeout_ms"), Manifest.Limits.TIMEOUT_MS, Manifest.Limits.DEFAULT_TIMEOUT_MS),
                whole(node.get("load_timeout_ms"), Manifest.Limits.LOAD_TIMEOUT_MS,
                        Manifest.Limits.DEFAULT_LOAD_TIMEOUT_MS),
                (int) whole(node.get("max_body_mb"), Manifest.Limits.MAX_BODY_MB,
                        Manifest.Limits.DEFAULT_MAX_BODY_MB),
                whole(node.get("body_timeout_ms"), Manifest.Limits.BODY_TIMEOUT_MS,
                        Manifest.Limits.DEFAULT_BODY_TIMEOUT_MS));
    }

    /** A whole number in range; checked here as a long so that a huge value cannot wrap into range as an int. */
    private static long whole(JsonNode node, Bound bound, long fallback) {
        if (absent(node)) {
            return fallback;
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw bound.mismatch(show(node));
        }
        bound.check(node.longValue());
        return node.longValue();
    }

    private static double number(JsonNode node, Bound bound, double fallback) {
        if (absent(node)) {
            return fallback;
        }
        if (!node.isNumber()) {
            throw bound.mismatch(show(node));
        }
        bound.check(node.doubleValue());
        return node.doubleValue();
    }

    private static void checkKeys(JsonNode object, String prefix, List<String> allowed) {
        Set<String> known = Set.copyOf(allowed);
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!known.contains(key)) {
                String where = prefix.isEmpty() ? "" : " in " + prefix.substring(0, prefix.length() - 1);
                throw fail("unknown key '" + prefix + key + "'; the allowed keys" + where + " are "
                        + String.join(", ", allowed));
            }
        }
    }

    /** JSON as the SPI hands it to models: Map, List, String, Long, Double, Boolean, null (DESIGN 1.4). */
    static Object toJdk(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.properties().forEach(field -> map.put(field.getKey(), toJdk(field.getValue())));
            return Collections.unmodifiableMap(map);
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(element -> list.add(toJdk(element)));
            return Collections.unmodifiableList(list);
        }
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.longValue();
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.isNull() ? null : node.asText();
    }

    private static boolean absent(JsonNode node) {
        return node == null || node.isNull();
    }

    private static String shown(JsonNode node) {
        return node == null ? "nothing" : show(node);
    }

    private static String show(JsonNode node) {
        String text = node.isArray() ? "an array " + node : node.isObject() ? "an object " + node : node.toString();
        return text.length() > 80 ? text.substring(0, 77) + "..." : text;
    }

    private static DeployerException fail(String problem) {
        return DeployerException.badRequest("deploy.json: " + problem);
    }
}
