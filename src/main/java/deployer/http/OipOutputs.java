package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.pack.Manifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The Open Inference Protocol's tensors in and out: checking a request, and shaping a prediction as outputs. */
final class OipOutputs {

    private OipOutputs() {
    }

    /** Parses a JSON body; not JSON is a 400 naming what it was. */
    static Object parseJson(byte[] body, String what) {
        try {
            return Json.parse(body);
        } catch (IOException e) {
            throw DeployerException.badRequest(what + " is not valid JSON: " + e.getMessage());
        }
    }

    /** Parses and checks an inference request object; every fault is a 400 naming the field. */
    static Map<String, Object> parseRequest(byte[] body) {
        return parseRequest(body, body.length, null);
    }

    /** Gives the inputs sent as bytes after the JSON their data, before the request is checked. */
    interface BinaryInputs {
        void read(Map<?, ?> request, int offset);
    }

    /**
     * Parses and checks an inference request whose JSON is the first {@code jsonLength} bytes of {@code body}, the
     * rest read by {@code binary} (the binary tensor data extension; null when the body is JSON alone).
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> parseRequest(byte[] body, int jsonLength, BinaryInputs binary) {
        Object parsed;
        try {
            parsed = Json.parse(jsonLength == body.length ? body : java.util.Arrays.copyOf(body, jsonLength));
        } catch (IOException e) {
            throw DeployerException.badRequest("the inference request is not valid JSON: " + e.getMessage()
                    + (jsonLength == body.length ? "" : " (its first " + jsonLength + " bytes, as the header"
                    + " Inference-Header-Content-Length says)"));
        }
        if (!(parsed instanceof Map<?, ?> request)) {
            throw DeployerException.badRequest("the inference request must be a JSON object with \"inputs\"");
        }
        if (binary != null) {
            binary.read(request, jsonLength);
        }
        if (request.get("id") != null && !(request.get("id") instanceof String)) {
            throw DeployerException.badRequest("\"id\" must be a string");
        }
        if (!(request.get("inputs") instanceof List<?> inputs) || inputs.isEmpty()) {
            throw DeployerException.badRequest("\"inputs\" must be a non-empty array of"
                    + " {\"name\", \"shape\", \"datatype\", \"data\"}");
        }
        for (int i = 0; i < inputs.size(); i++) {
            String at = "inputs[" + i + "]";
            if (!(inputs.get(i) instanceof Map<?, ?> input)) {
                throw DeployerException.badRequest(at + " must be an object");
            }
            if (!(input.get("name") instanceof String name) || name.isEmpty()) {
                throw DeployerException.badRequest(at + ".name must be a non-empty string");
            }
            if (!(input.get("shape") instanceof List<?> shape)
                    || !shape.stream().allMatch(d -> d instanceof Long n && n >= 0)) {
                throw DeployerException.badRequest(at + ".shape must be an array of whole numbers ≥ 0");
            }
            if (!(input.get("datatype") instanceof String type) || !Manifest.DATATYPES.contains(type)) {
                throw DeployerException.badRequest(at + ".datatype must be one of " + Manifest.DATATYPES);
            }
            if (!(input.get("data") instanceof List<?>) && !(input.get("data") instanceof double[])) {
                throw DeployerException.badRequest(at + ".data must be an array" + (binary == null
                        && input.get("parameters") instanceof Map<?, ?> p && p.containsKey("binary_data_size")
                        ? " (or, with parameters.binary_data_size, its bytes after the JSON, whose length the header"
                        + " Inference-Header-Content-Length gives)" : ""));
            }
        }
        if (request.get("outputs") != null && !(request.get("outputs") instanceof List<?>)) {
            throw DeployerException.badRequest("\"outputs\" must be an array of {\"name\"}");
        }
        return (Map<String, Object>) request;
    }

    /** The model's input: each named input as {@code {"shape", "datatype", "data"}}, data flattened row-major. */
    static Map<String, Object> namedInputs(Map<String, Object> request) {
        Map<String, Object> named = new LinkedHashMap<>();
        for (Object item : (List<?>) request.get("inputs")) {
            Map<?, ?> input = (Map<?, ?>) item;
            Map<String, Object> tensor = new LinkedHashMap<>();
            tensor.put("shape", input.get("shape"));
            tensor.put("datatype", input.get("datatype"));
            if (input.get("data") instanceof double[] values) {
                tensor.put("data", values); // binary FP32/FP64 for a no-code runtime, as OipFastInputs gives them
            } else {
                List<Object> flat = new ArrayList<>();
                flatten(input.get("data"), flat);
                tensor.put("data", flat);
            }
            if (input.get("parameters") != null) {
                tensor.put("parameters", input.get("parameters"));
            }
            if (named.put((String) input.get("name"), tensor) != null) {
                throw DeployerException.badRequest("input " + input.get("name") + " is given twice");
            }
        }
        return named;
    }

    /** The output names the request asks for; empty for all. */
    static Set<String> requested(Map<String, Object> request) {
        Set<String> names = new LinkedHashSet<>();
        if (request.get("outputs") instanceof List<?> outputs) {
            for (Object output : outputs) {
                if (!(output instanceof Map<?, ?> o) || !(o.get("name") instanceof String name)) {
                    throw DeployerException.badRequest("each of \"outputs\" must be {\"name\": \"...\"}");
                }
                names.add(name);
            }
        }
        return names;
    }

    /**
     * A prediction as output tensors. A map of tensors ({@code {"out": {"shape", "datatype", "data"}}}) is taken as
     * it is; a map of plain values gives one output per key; anything else one output, named by the manifest's
     * first output or {@code output0}. Shapes and types not given are inferred from the values.
     */
    static List<Map<String, Object>> outputs(Object prediction, List<Manifest.Tensor> declared, Set<String> wanted) {
        Map<String, Object> byName = new LinkedHashMap<>();
        if (prediction instanceof Map<?, ?> map && !map.isEmpty()) {
            map.forEach((k, v) -> byName.put(String.valueOf(k), v));
        } else {
            byName.put(declared.isEmpty() ? "output0" : declared.get(0).name(), prediction);
        }
        for (String name : wanted) {
            if (!byName.containsKey(name)) {
                throw DeployerException.badRequest("output " + Json.writeString(name) + " is not produced; the model"
                        + " gives " + byName.keySet());
            }
        }
        List<Map<String, Object>> outputs = new ArrayList<>();
        for (Map.Entry<String, Object> entry : byName.entrySet()) {
            if (wanted.isEmpty() || wanted.contains(entry.getKey())) {
                outputs.add(tensor(entry.getKey(), entry.getValue(), declared));
            }
        }
        return outputs;
    }

    private static Map<String, Object> tensor(String name, Object value, List<Manifest.Tensor> declared) {
        Object data = value;
        Object shape = null;
        Object datatype = null;
        Object parameters = null;
        if (value instanceof Map<?, ?> given && given.containsKey("data")) {
            data = given.get("data");
            shape = given.get("shape");
            datatype = given.get("datatype");
            parameters = given.get("parameters");
        } else if (value instanceof Map<?, ?> byKey && !byKey.isEmpty()
                && byKey.values().stream().allMatch(v -> v instanceof Number)) {
            // {class: p, …}: a typed tensor of the values, the keys (in order) in its parameters
            data = new ArrayList<>(byKey.values());
            parameters = Map.of("keys", String.join(",", byKey.keySet().stream().map(String::valueOf).toList()));
        }
        List<Object> flat = new ArrayList<>();
        flatten(data, flat);
        if (shape == null) {
            shape = shapeOf(data, flat.size());
        }
        if (datatype == null) {
            datatype = declared.stream().filter(t -> t.name().equals(name)).map(Manifest.Tensor::datatype)
                    .findFirst().orElse(typeOf(flat));
        }
        if ("BYTES".equals(datatype)) {
            flat.replaceAll(v -> v instanceof String ? v : Json.writeString(v));
        }
        Map<String, Object> tensor = new LinkedHashMap<>();
        tensor.put("name", name);
        tensor.put("shape", shape);
        tensor.put("datatype", datatype);
        if (parameters instanceof Map<?, ?>) {
            tensor.put("parameters", parameters);
        }
        tensor.put("data", flat);
        return tensor;
    }

    private static void flatten(Object value, List<Object> into) {
        if (value instanceof List<?> list) {
            for (Object item : list) {
                flatten(item, into);
            }
        } else {
            into.add(value);
        }
    }

    /** The shape of nested lists when they are regular; the flat length otherwise; [1] for a scalar. */
    private static List<Long> shapeOf(Object data, int flatSize) {
        List<Long> shape = new ArrayList<>();
        Object level = data;
        while (level instanceof List<?> list) {
            shape.add((long) list.size());
            level = list.isEmpty() ? null : list.get(0);
        }
        if (shape.isEmpty()) {
            return List.of(1L);
        }
        long product = shape.stream().reduce(1L, (a, b) -> a * b);
        return product == flatSize ? shape : List.of((long) flatSize);
    }

    private static String typeOf(List<Object> values) {
        if (!values.isEmpty() && values.stream().allMatch(v -> v instanceof Boolean)) {
            return "BOOL";
        }
        if (!values.isEmpty() && values.stream().allMatch(v -> v instanceof Long)) {
            return "INT64";
        }
        if (!values.isEmpty() && values.stream().allMatch(v -> v instanceof Number)) {
            return "FP64";
        }
        return "BYTES";
    }
}
