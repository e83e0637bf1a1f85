package deployer.pack;

import deployer.core.DeployerException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A validated {@code deploy.json} (DESIGN 1.5). Only {@code name} is required; every other field has its default
 * here, so a consumer never checks for a missing value except {@link #entry()}.
 *
 * @param name the model's name, matching {@link #NAME}
 * @param entry the {@code Model} class's binary name; null when absent (the cell then uses the service file)
 * @param description free text; empty when absent
 * @param files the deployable-file patterns, unmodifiable; empty when absent
 * @param properties handed to the model as {@code ModelContext.properties()}, unmodifiable, in file order
 * @param health how the cell is pinged before it counts as ready
 * @param limits per-cell request limits
 * @param inputs the model's input tensors, for the Open Inference Protocol's metadata; empty when absent
 * @param outputs the model's output tensors, likewise; also name and type the outputs of an {@code infer}
 * @param runtime the no-code runtime that serves the package ({@code "onnx"}, DESIGN 1.9); null for a package with
 *     its own model class
 * @param model the runtime's model file, a path inside the package ({@code model/model.onnx}); null when absent
 *     (the runtime then takes the one file of its kind in the package)
 * @param batching how requests are gathered into one {@code scoreBatch} call; null when absent (no batching)
 * @param isolation where the cell runs ({@code "isolation"} and {@code "jvm"}, DESIGN 1.12): in the server's JVM
 *     (the default) or in a child JVM of its own
 */
public record Manifest(String name, String entry, String description, List<String> files,
                       Map<String, String> properties, Health health, Limits limits, List<Tensor> inputs,
                       List<Tensor> outputs, String runtime, String model, Batching batching, Isolation isolation) {

    /** A manifest whose cell runs in the server's JVM (the default isolation). */
    public Manifest(String name, String entry, String description, List<String> files,
                    Map<String, String> properties, Health health, Limits limits, List<Tensor> inputs,
                    List<Tensor> outputs, String runtime, String model, Batching batching) {
        this(name, entry, description, files, properties, health, limits, inputs, outputs, runtime, model, batching,
                null);
    }

    /** The no-code runtimes a manifest may name. */
    public static final List<String> RUNTIMES = List.of("onnx");

    /** The tensor data types of the Open Inference Protocol. */
    public static final List<String> DATATYPES = List.of("BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8",
            "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES");

    /**
     * One input or output tensor as {@code deploy.json} describes it: {@code {"name", "datatype", "shape"}}, a
     * dimension of -1 meaning variable.
     */
    public record Tensor(String name, String datatype, List<Long> shape) {
        public Tensor {
            shape = List.copyOf(shape);
        }
    }

    /** A manifest without tensor descriptions. */
    public Manifest(String name, String entry, String description, List<String> files, Map<String, String> properties,
                    Health health, Limits limits) {
        this(name, entry, description, files, properties, health, limits, List.of(), List.of());
    }

    /** A manifest of a package with its own model class (no runtime). */
    public Manifest(String name, String entry, String description, List<String> files, Map<String, String> properties,
                    Health health, Limits limits, List<Tensor> inputs, List<Tensor> outputs) {
        this(name, entry, description, files, properties, health, limits, inputs, outputs, null, null, null);
    }

    /** The one rule for model names: also a folder name and a URL path segment, so nothing that needs escaping. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    /** Normalizes the optional parts to their defaults and checks the name. */
    public Manifest {
        checkName(name);
        description = description == null ? "" : description;
        files = files == null ? List.of() : List.copyOf(files);
        properties = properties == null
                ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(properties));
        health = health == null ? Health.DEFAULT : health;
        limits = limits == null ? Limits.DEFAULT : limits;
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        isolation = isolation == null ? Isolation.DEFAULT : isolation;
        if (runtime != null && entry != null) {
            throw DeployerException.badRequest("deploy.json: entry is not allowed with runtime " + runtime
                    + ": the runtime is the model class");
        }
        if (model != null && runtime == null) {
            throw DeployerException.badRequest("deploy.json: model needs a runtime, e.g. \"runtime\": \"onnx\"");
        }
    }

    /**
     * Parses and validates a {@code deploy.json}.
     *
     * @param json the file's bytes, UTF-8
     * @return the manifest
     * @throws DeployerException BAD_REQUEST whose message starts {@code deploy.json: } and names the field at fault
     */
    public static Manifest parse(byte[] json) {
        return ManifestParser.parse(json);
    }

    /**
     * Checks a model name against {@link #NAME}.
     *
     * @param name the name to check
     * @return the name, unchanged
     * @throws DeployerException BAD_REQUEST {@code model name 'Iris!' must match [a-z0-9][a-z0-9._-]{0,62}}
     */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw DeployerException.badRequest("model name '" + name + "' must match " + NAME.pattern());
        }
        return name;
    }

    /**
     * How the server decides a new cell is ready.
     *
     * @param sample scored once before the cell counts as ready; JDK JSON types; null when absent
     * @param attempts pings before the cell is FAILED, 1 to 50
     * @param firstDelayMs wait before the second ping, 0 to 600000
     * @param backoff factor each later wait grows by, 1.0 to 10.0
     * @param timeoutMs deadline of one ping, 1 to 600000
     */
    public record Health(Object sample, int attempts, long firstDelayMs, double backoff, long timeoutMs) {

        public static final int DEFAULT_ATTEMPTS = 5;
        public static final long DEFAULT_FIRST_DELAY_MS = 500;
        public static final double DEFAULT_BACKOFF = 2.0;
        public static final long DEFAULT_TIMEOUT_MS = 2000;
        // The bounds come before DEFAULT: constructing DEFAULT checks against them.
        static final Bound ATTEMPTS = new Bound("health.attempts", 1, 50);
        static final Bound FIRST_DELAY_MS = new Bound("health.first_delay_ms", 0, 600_000);
        static final Bound BACKOFF = new Bound("health.backoff", 1.0, 10.0);
        static final Bound TIMEOUT_MS = new Bound("health.timeout_ms", 1, 600_000);

        public static final Health DEFAULT =
                new Health(null, DEFAULT_ATTEMPTS, DEFAULT_FIRST_DELAY_MS, DEFAULT_BACKOFF, DEFAULT_TIMEOUT_MS);

        /** Checks each setting's range; the message names it the way deploy.json spells it. */
        public Health {
            ATTEMPTS.check(attempts);
            FIRST_DELAY_MS.check(firstDelayMs);
            BACKOFF.check(backoff);
            TIMEOUT_MS.check(timeoutMs);
        }
    }

    /**
     * Per-cell limits.
     *
     * @param maxConcurrent requests scored at once before the cell answers 503, 1 to 10000
     * @param timeoutMs deadline of one request, 1 to 3600000
     * @param loadTimeoutMs deadline of {@code Model.load}, 1 to 3600000
     * @param maxBodyMb the largest scoring body, in MiB, before a 413, 1 to 1024
     * @param bodyTimeoutMs how long a client may take to send its body before a 408, 1 to 3600000
     */
    public record Limits(int maxConcurrent, long timeoutMs, long loadTimeoutMs, int maxBodyMb, long bodyTimeoutMs) {

        public static final int DEFAULT_MAX_CONCURRENT = 64;
        public static final long DEFAULT_TIMEOUT_MS = 10_000;
        public static final long DEFAULT_LOAD_TIMEOUT_MS = 120_000;
        public static final int DEFAULT_MAX_BODY_MB = 64;
        public static final long DEFAULT_BODY_TIMEOUT_MS = 30_000;
        // The bounds come before DEFAULT: constructing DEFAULT checks against them.
        static final Bound MAX_CONCURRENT = new Bound("limits.max_concurrent", 1, 10_000);
        static final Bound TIMEOUT_MS = new Bound("limits.timeout_ms", 1, 3_600_000);
        static final Bound LOAD_TIMEOUT_MS = new Bound("limits.load_timeout_ms", 1, 3_600_000);
        static final Bound MAX_BODY_MB = new Bound("limits.max_body_mb", 1, 1024);
        static final Bound BODY_TIMEOUT_MS = new Bound("limits.body_timeout_ms", 1, 3_600_000);

        public static final Limits DEFAULT =
                new Limits(DEFAULT_MAX_CONCURRENT, DEFAULT_TIMEOUT_MS, DEFAULT_LOAD_TIMEOUT_MS);

        /** Checks each setting's range; the message names it the way deploy.json spells it. */
        public Limits {
            MAX_CONCURRENT.check(maxConcurrent);
            TIMEOUT_MS.check(timeoutMs);
            LOAD_TIMEOUT_MS.check(loadTimeoutMs);
            MAX_BODY_MB.check(maxBodyMb);
            BODY_TIMEOUT_MS.check(bodyTimeoutMs);
        }

        /** The first three, with the body's limits at their defaults. */
        public Limits(int maxConcurrent, long timeoutMs, long loadTimeoutMs) {
            this(maxConcurrent, timeoutMs, loadTimeoutMs, DEFAULT_MAX_BODY_MB, DEFAULT_BODY_TIMEOUT_MS);
        }

        /** {@link #maxBodyMb} in bytes. */
        public long maxBodyBytes() {
            return (long) maxBodyMb << 20;
        }
    }

    /**
     * Dynamic batching (DESIGN 1.10): both keys are required when {@code "batching"} is present.
     *
     * @param maxBatchSize the most requests scored in one call, 1 to 4096
     * @param maxDelayMs how long a request may wait for company while the model is busy, 0 to 60000; 0 means it
     *     waits only for the model to be free and takes whatever is waiting
     */
    public record Batching(int maxBatchSize, long maxDelayMs) {

        static final Bound MAX_BATCH_SIZE = new Bound("batching.max_batch_size", 1, 4096);
        static final Bound MAX_DELAY_MS = new Bound("batching.max_delay_ms", 0, 60_000);

        /** Checks each setting's range; the message names it the way deploy.json spells it. */
        public Batching {
            MAX_BATCH_SIZE.check(maxBatchSize);
            MAX_DELAY_MS.check(maxDelayMs);
        }
    }

    /**
     * Where a cell runs: {@code "isolation": "classloader"} (the default: its own class loader in the server's JVM)
     * or {@code "process"} (a child JVM of the server, same jar), with {@code "jvm": {"heap_mb": 512}} for that JVM.
     *
     * @param mode {@link #CLASSLOADER} or {@link #PROCESS}
     * @param heapMb the child's heap ceiling ({@code -Xmx}), 16 to 1048576; 0 when absent (the server's
     *     {@code --cell-jvm-args}, else the JVM's own default)
     */
    public record Isolation(String mode, int heapMb) {

        public static final String CLASSLOADER = "classloader";
        public static final String PROCESS = "process";
        public static final List<String> MODES = List.of(CLASSLOADER, PROCESS);
        static final Bound HEAP_MB = new Bound("jvm.heap_mb", 16, 1024 * 1024);
        public static final Isolation DEFAULT = new Isolation(CLASSLOADER, 0);

        public Isolation {
            if (!MODES.contains(mode)) {
                throw DeployerException.badRequest("deploy.json: isolation must be one of " + String.join(", ", MODES)
                        + ", not " + mode);
            }
            if (heapMb != 0) {
                HEAP_MB.check(heapMb);
            }
        }

        /** Whether the cell runs in a child JVM. */
        public boolean process() {
            return PROCESS.equals(mode);
        }
    }
}
