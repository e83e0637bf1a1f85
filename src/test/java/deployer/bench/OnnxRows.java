package deployer.bench;

import deployer.Deployer;
import deployer.OnnxGraphs;
import deployer.pack.LibStore;
import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Rows 11 to 13 (issue 14): the no-code ONNX iris against the scripted {@code cells/iris-onnx} through the same
 * port; the Open Inference Protocol's {@code infer} against JSON {@code predict} on the no-code model; and the bytes
 * sent and stored for a second upload of an ONNX package whose runtime jar the server already keeps. Row 23: the
 * same {@code infer} with the row as binary tensor data, as {@code tritonclient} sends it by default.
 */
final class OnnxRows {

    static final List<Integer> ROWS = List.of(11, 12, 13, 23);

    private static final String ROW = "[1.4, 0.2, 5.1, 3.5]";
    private static final String SCRIPTED_ROW = "[5.1, 3.5, 1.4, 0.2]";

    private final Options options;

    OnnxRows(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("onnx"));
        Path data = work.resolve("data");
        OnnxGraphs.provideRuntime(data);
        try (Deployer deployer = Deployer.start(Bench.settings(data))) {
            URI base = deployer.uri();
            Path jar = OnnxGraphs.onnxRuntimeJar();
            // row 13 first: it is also how the scripted package gets its runtime jar
            upload(table, base, data, jar);
            deploy(base, nocode(), List.of());
            int n = options.connections();
            Load nocode = new Load(deployer.port(), "/models/iris-onnx-nocode/predict",
                    ("{\"instances\": [" + ROW + "]}").getBytes(StandardCharsets.UTF_8), n);
            Load scripted = new Load(deployer.port(), "/models/iris-onnx/predict",
                    ("{\"instances\": [" + SCRIPTED_ROW + "]}").getBytes(StandardCharsets.UTF_8), n);
            Load infer = new Load(deployer.port(), "/v2/models/iris-onnx-nocode/infer", ("{\"inputs\": [{\"name\":"
                    + " \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": " + ROW + "}]}")
                    .getBytes(StandardCharsets.UTF_8), n);
            String head = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\","
                    + "\"parameters\":{\"binary_data_size\":16}}],\"parameters\":{\"binary_data_output\":true}}";
            byte[] json = head.getBytes(StandardCharsets.UTF_8);
            java.nio.ByteBuffer binaryBody = java.nio.ByteBuffer.allocate(json.length + 16)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).put(json);
            for (String v : ROW.substring(1, ROW.length() - 1).split(",")) {
                binaryBody.putFloat(Float.parseFloat(v.strip()));
            }
            Load binary = new Load(deployer.port(), "/v2/models/iris-onnx-nocode/infer", "application/octet-stream",
                    "Inference-Header-Content-Length: " + json.length + "\r\n", binaryBody.array(), n);
            List<Load> targets = List.of(nocode, scripted, infer, binary);
            for (Load target : targets) {
                target.run(options.warmupMs(), 0);
            }
            List<List<Load.Result>> results = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>());
            // round after round, the order turned each time, so whichever goes first in a noisy moment does not
            // decide the ratio alone
            for (int round = 0; round < options.rounds(); round++) {
                for (int k = 0; k < targets.size(); k++) {
                    int i = round % 2 == 0 ? k : targets.size() - 1 - k;
                    results.get(i).add(targets.get(i).run(500, options.measureMs()));
                }
            }
            Load.Result noCode = Load.merge(results.get(0));
            Load.Result script = Load.merge(results.get(1));
            Load.Result oip = Load.merge(results.get(2));
            double vsScript = noCode.throughput() / script.throughput();
            table.add(new Table.Row(11, "no-code `runtime: onnx` iris, `/models/{name}/predict` on the main port, "
                    + n + " connections", noCode.toString(), "scripted `cells/iris-onnx` on the same port: " + script,
                    "throughput " + Table.ratio(vsScript) + perRound(results.get(0), results.get(1)),
                    "throughput ≥ 0.95×",
                    Table.met(vsScript >= 0.95 && noCode.failed() == 0)));
            double vsJson = oip.throughput() / noCode.throughput();
            table.add(new Table.Row(12, "`/v2/models/{name}/infer` (FP32 tensor) on the no-code iris", oip.toString(),
                    "JSON `predict` of the same row (row 11): " + noCode, "throughput " + Table.ratio(vsJson)
                    + perRound(results.get(2), results.get(0)),
                    "throughput ≥ 0.90×", Table.met(vsJson >= 0.90 && oip.failed() == 0)));
            Load.Result bin = Load.merge(results.get(3));
            double binVsJson = bin.throughput() / noCode.throughput();
            table.add(new Table.Row(23, "`/v2/models/{name}/infer` with the FP32 row as binary tensor data (as"
                    + " `tritonclient` sends it), answered binary, on the no-code iris", bin.toString(),
                    "JSON `predict` of the same row (row 11): " + noCode + "; JSON `infer` (row 12): " + oip,
                    "throughput " + Table.ratio(binVsJson) + perRound(results.get(3), results.get(0))
                    + ", " + Table.ratio(bin.throughput() / oip.throughput()) + " of JSON `infer`",
                    "report", "-"));
        }
    }

    /**
     * The ratio of each round on its own: both sides of a round ran within seconds of each other, so how far the
     * rounds differ is how much the rest of the machine moved the figure (the two iris models cost about the same).
     */
    private static String perRound(List<Load.Result> measured, List<Load.Result> against) {
        List<String> ratios = new ArrayList<>();
        for (int i = 0; i < measured.size(); i++) {
            ratios.add(Table.ratio(measured.get(i).throughput() / against.get(i).throughput()));
        }
        return " (rounds " + String.join(", ", ratios) + ")";
    }

    /**
     * Row 13: the scripted iris-onnx package (89 MiB with its ONNX Runtime jar) uploaded whole, then its next
     * version as {@code deployer deploy} sends it once the server keeps the jar: asked for first, named by hash.
     */
    private void upload(Table table, URI base, Path data, Path jar) throws Exception {
        Map<String, byte[]> files = scripted();
        String jarPath = "lib/" + jar.getFileName();
        Map<String, byte[]> whole = new LinkedHashMap<>(files);
        whole.put(jarPath, Files.readAllBytes(jar));
        long storedBefore = storedBytes(data);
        long firstSent = deploy(base, Packages.zip(whole), List.of());
        long afterFirst = storedBytes(data);
        String sha = LibStore.sha256(jar);
        String missing = send(HttpRequest.newBuilder(base.resolve("/api/libs/missing"))
                .header("Authorization", "Bearer " + Api.TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{\"sha256\": [\"" + sha + "\"]}")));
        if (!missing.contains("[]")) {
            throw new IllegalStateException("the server does not keep the jar it was sent: " + missing);
        }
        files.put("model/version.txt", "2".getBytes(StandardCharsets.UTF_8));
        long secondSent = deploy(base, Packages.zip(files), List.of(jarPath, sha));
        long afterSecond = storedBytes(data);
        double sentRatio = (double) secondSent / firstSent;
        double storedRatio = (double) (afterSecond - afterFirst) / (afterFirst - storedBefore);
        table.add(new Table.Row(13, "second upload of an ONNX package (`cells/iris-onnx`), jar kept by the server",
                "sent " + Table.size(secondSent) + ", stored " + Table.size(afterSecond - afterFirst),
                "first upload: sent " + Table.size(firstSent) + ", stored " + Table.size(afterFirst - storedBefore),
                "sent " + String.format(java.util.Locale.ROOT, "%.3f%%", sentRatio * 100) + ", stored "
                        + String.format(java.util.Locale.ROOT, "%.3f%%", storedRatio * 100),
                "< 1% of the first", Table.met(sentRatio < 0.01 && storedRatio < 0.01)));
    }

    /** Uploads; {@code stored} is a path and hash pair to send as a part 'stored'. Returns the body's bytes. */
    private static long deploy(URI base, byte[] archive, List<String> stored) throws IOException {
        Multipart form = new Multipart().file("package", "package.zip", archive);
        if (!stored.isEmpty()) {
            form.file("stored", stored.get(0), stored.get(1).getBytes(StandardCharsets.US_ASCII));
        }
        byte[] body = form.build();
        String answer = send(HttpRequest.newBuilder(base.resolve("/api/deployments?wait=300"))
                .header("Authorization", "Bearer " + Api.TOKEN).header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        if (!answer.contains("\"READY\"")) {
            throw new IllegalStateException("not READY: " + answer);
        }
        return body.length;
    }

    /** Sends a call of the management API (or any), answering its body; a 3xx-5xx is an IOException. */
    static String send(HttpRequest.Builder request) throws IOException {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(request.timeout(Duration.ofMinutes(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() >= 300) {
                throw new IOException(r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The bytes of the data folder's models and libs, each file counted once however many links it has. */
    private static long storedBytes(Path data) throws IOException {
        long total = 0;
        Set<Object> seen = new HashSet<>();
        for (String part : List.of("models", "libs")) {
            Path folder = data.resolve(part);
            if (!Files.isDirectory(folder)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(folder)) {
                for (Path f : walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                    if (seen.add(Files.getAttribute(f, "unix:ino", LinkOption.NOFOLLOW_LINKS))) {
                        total += Files.size(f);
                    }
                }
            }
        }
        return total;
    }

    private static byte[] nocode() throws IOException {
        Path example = Path.of("cells/iris-onnx-nocode");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", Files.readAllBytes(example.resolve("deploy.json")));
        files.put("model/model.onnx", Files.readAllBytes(example.resolve("model/model.onnx")));
        return Packages.zip(files);
    }

    private static Map<String, byte[]> scripted() throws IOException {
        Path example = Path.of("cells/iris-onnx");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", Files.readAllBytes(example.resolve("deploy.json")));
        for (String part : List.of("serving", "model")) {
            try (Stream<Path> walk = Files.walk(example.resolve(part))) {
                for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                    files.put(example.relativize(f).toString(), Files.readAllBytes(f));
                }
            }
        }
        return files;
    }
}
