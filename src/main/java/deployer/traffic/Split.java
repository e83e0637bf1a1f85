package deployer.traffic;

import deployer.core.DeployerException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a user asked of a model's traffic (DESIGN 1.11), validated: weights per version, integers 0-100 summing to at
 * most 100 (the active version takes what is left), and an optional shadow. Immutable.
 *
 * @param weights version to weight, in version order; empty for "all to the active version"
 * @param shadow  the version that also scores a share of requests, or null
 */
public record Split(Map<Integer, Integer> weights, Shadow shadow) {

    /** No split: every request to the active version. */
    public static final Split NONE = new Split(Map.of(), null);

    public Split {
        weights = Collections.unmodifiableMap(new TreeMap<>(weights));
    }

    /** A version scoring {@code percent} of requests after their answer is sent, without changing it. */
    public record Shadow(int version, int percent) {
    }

    /** Whether nothing is asked: all to the active version, no shadow. */
    public boolean isNone() {
        return weights.isEmpty() && shadow == null;
    }

    /** Every version this split names, the shadow's included. */
    public java.util.Set<Integer> versions() {
        java.util.Set<Integer> all = new java.util.TreeSet<>(weights.keySet());
        if (shadow != null) {
            all.add(shadow.version());
        }
        return all;
    }

    /**
     * Reads the body of {@code PUT /api/models/{name}/traffic}: {@code {"split": {"3": 90, "4": 10}, "shadow":
     * {"version": 5, "percent": 20}}}. Every fault is named by its field, all at once, in one 400.
     */
    public static Split parse(Object body) {
        List<String> errors = new ArrayList<>();
        if (!(body instanceof Map<?, ?> map)) {
            throw DeployerException.badRequest("the body must be a JSON object: {\"split\": {\"3\": 90, \"4\": 10},"
                    + " \"shadow\": {\"version\": 5, \"percent\": 20}}");
        }
        for (Object key : map.keySet()) {
            if (!"split".equals(key) && !"shadow".equals(key)) {
                errors.add(key + ": unknown key (the traffic object takes split and shadow)");
            }
        }
        Map<Integer, Integer> weights = new LinkedHashMap<>();
        Object split = map.get("split");
        if (split != null && !(split instanceof Map)) {
            errors.add("split: must be an object of version to weight, e.g. {\"3\": 90, \"4\": 10}");
        } else if (split != null) {
            int sum = 0;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) split).entrySet()) {
                String field = "split." + e.getKey();
                Integer version = version(String.valueOf(e.getKey()));
                if (version == null) {
                    errors.add(field + ": not a version number (1, 2, 3 ...)");
                    continue;
                }
                if (!(e.getValue() instanceof Long w) || w < 0 || w > 100) {
                    errors.add(field + ": the weight must be an integer from 0 to 100, not " + e.getValue());
                    continue;
                }
                weights.put(version, w.intValue());
                sum += w.intValue();
            }
            if (sum > 100) {
                errors.add("split: the weights sum to " + sum + "; they must sum to 100 (or less: the active version"
                        + " takes the rest)");
            }
        }
        Shadow shadow = null;
        Object s = map.get("shadow");
        if (s instanceof Map<?, ?> sm) {
            Object v = sm.get("version");
            Object p = sm.get("percent");
            for (Object key : sm.keySet()) {
                if (!"version".equals(key) && !"percent".equals(key)) {
                    errors.add("shadow." + key + ": unknown key (shadow takes version and percent)");
                }
            }
            boolean ok = true;
            if (!(v instanceof Long lv) || lv < 1 || lv > Integer.MAX_VALUE) {
                errors.add("shadow.version: must be a version number, not " + v);
                ok = false;
            }
            if (!(p instanceof Long lp) || lp < 1 || lp > 100) {
                errors.add("shadow.percent: must be an integer from 1 to 100, not " + p);
                ok = false;
            }
            if (ok) {
                shadow = new Shadow(((Long) v).intValue(), ((Long) p).intValue());
            }
        } else if (s != null) {
            errors.add("shadow: must be an object {\"version\": 5, \"percent\": 20}, or left out");
        }
        if (!errors.isEmpty()) {
            throw DeployerException.badRequest(String.join("; ", errors));
        }
        return new Split(weights, shadow);
    }

    /** The split as the database keeps it: {@code "3=90,4=10"}. */
    String weightsText() {
        StringBuilder text = new StringBuilder();
        weights.forEach((v, w) -> text.append(text.length() == 0 ? "" : ",").append(v).append('=').append(w));
        return text.toString();
    }

    /** Reads {@link #weightsText}. */
    static Map<Integer, Integer> weightsOf(String text) {
        Map<Integer, Integer> weights = new TreeMap<>();
        if (text != null && !text.isBlank()) {
            for (String pair : text.split(",")) {
                String[] vw = pair.split("=", 2);
                weights.put(Integer.parseInt(vw[0].trim()), Integer.parseInt(vw[1].trim()));
            }
        }
        return weights;
    }

    /** The split as JSON: version numbers as keys. */
    public Map<String, Object> weightsView() {
        Map<String, Object> view = new LinkedHashMap<>();
        weights.forEach((v, w) -> view.put(Integer.toString(v), w));
        return view;
    }

    static Integer version(String text) {
        if (text == null || !text.matches("[1-9][0-9]{0,8}")) {
            return null;
        }
        return Integer.parseInt(text);
    }
}
