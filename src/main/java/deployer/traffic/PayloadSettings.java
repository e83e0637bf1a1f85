package deployer.traffic;

import deployer.core.DeployerException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What share of a model's requests is recorded, and which fields are replaced by {@code "***"} before a record is
 * written (DESIGN 1.11 {@code "payloads"}).
 *
 * @param sample share of requests recorded, 0 to 1
 * @param redact names of fields (at any depth of the request's or reply's JSON) never written
 */
public record PayloadSettings(double sample, List<String> redact) {

    public static final PayloadSettings OFF = new PayloadSettings(0, List.of());

    public PayloadSettings {
        redact = List.copyOf(redact);
    }

    /** Reads {@code {"sample": 0.1, "redact": ["ssn"]}}; every fault named by its field ({@code prefix} first). */
    public static PayloadSettings parse(Object body, String prefix) {
        if (!(body instanceof Map<?, ?> map)) {
            throw DeployerException.badRequest(prefix.isEmpty() ? "the body must be a JSON object like"
                    + " {\"sample\": 0.1, \"redact\": [\"ssn\"]}" : prefix.substring(0, prefix.length() - 1)
                    + " must be an object like {\"sample\": 0.1, \"redact\": [\"ssn\"]}");
        }
        List<String> errors = new ArrayList<>();
        for (Object key : map.keySet()) {
            if (!"sample".equals(key) && !"redact".equals(key)) {
                errors.add(prefix + key + ": unknown key (payloads take sample and redact)");
            }
        }
        double sample = 0;
        Object s = map.get("sample");
        if (!(s instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() > 1 || Double.isNaN(n.doubleValue())) {
            errors.add(prefix + "sample: must be a number from 0 to 1 (the share of requests recorded), not " + s);
        } else {
            sample = n.doubleValue();
        }
        List<String> redact = new ArrayList<>();
        Object r = map.get("redact");
        if (r instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof String field) || field.isEmpty() || field.contains(",")
                        || field.length() > 200) {
                    errors.add(prefix + "redact[" + i + "]: must be a field name, not " + list.get(i));
                } else {
                    redact.add(field);
                }
            }
        } else if (r != null) {
            errors.add(prefix + "redact: must be a list of field names, e.g. [\"ssn\"]");
        }
        if (!errors.isEmpty()) {
            throw DeployerException.badRequest(String.join("; ", errors));
        }
        return new PayloadSettings(sample, redact);
    }

    Map<String, Object> view() {
        return Map.of("sample", sample, "redact", redact);
    }
}
