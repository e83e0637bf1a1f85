package deployer.bench;

import deployer.Deployer;
import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Row 15 (issue 17): what traffic between versions costs on the gateway, side by side in one server, rounds
 * alternating: a model split 50/50 between two versions and a model whose versions take 100 % shadow copies, each
 * against a model with one version and all traffic to it (the same echo model everywhere).
 */
final class TrafficRow {

    static final int ROW = 15;

    private final Options options;

    TrafficRow(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path data = Files.createDirectories(options.work().resolve("traffic")).resolve("data");
        try (Deployer deployer = Deployer.start(Bench.settings(data))) {
            URI base = deployer.uri();
            upload(base, "one", "");
            upload(base, "split", "");
            upload(base, "split", "activate=false&");
            upload(base, "shadow", "");
            upload(base, "shadow", "activate=false&");
            put(base, "split", "{\"split\": {\"1\": 50, \"2\": 50}}");
            put(base, "shadow", "{\"shadow\": {\"version\": 2, \"percent\": 100}}");
            byte[] body = "{\"features\": [5.1, 3.5, 1.4, 0.2]}".getBytes(StandardCharsets.UTF_8);
            int n = options.connections();
            Load one = new Load(deployer.port(), "/models/one/predict", body, n);
            Load split = new Load(deployer.port(), "/models/split/predict", body, n);
            Load shadow = new Load(deployer.port(), "/models/shadow/predict", body, n);
            one.run(options.warmupMs(), 0);
            split.run(options.warmupMs(), 0);
            shadow.run(options.warmupMs(), 0);
            List<Load.Result> oneRuns = new ArrayList<>();
            List<Load.Result> splitRuns = new ArrayList<>();
            List<Load.Result> shadowRuns = new ArrayList<>();
            for (int round = 0; round < options.rounds(); round++) {
                // Each round starts with another of the three: none always runs first on a warm or cold box.
                for (int k = 0; k < 3; k++) {
                    switch ((round + k) % 3) {
                        case 0 -> oneRuns.add(one.run(200, options.measureMs()));
                        case 1 -> splitRuns.add(split.run(200, options.measureMs()));
                        default -> shadowRuns.add(shadow.run(200, options.measureMs()));
                    }
                }
            }
            Load.Result all = Load.merge(oneRuns);
            Load.Result halves = Load.merge(splitRuns);
            Load.Result mirrored = Load.merge(shadowRuns);
            double splitRatio = halves.throughput() / all.throughput();
            double splitP99 = (double) halves.p99() / Math.max(1, all.p99());
            double shadowRatio = mirrored.throughput() / all.throughput();
            double shadowP99 = (double) mirrored.p99() / Math.max(1, all.p99());
            String outcomes = outcomes(base);
            table.add(new Table.Row(ROW, "traffic between versions (echo model, gateway, " + n + " connections):"
                    + " 50/50 split, and 100 % shadow (" + outcomes + "), vs all to one version",
                    "split: " + halves + "; shadow: " + mirrored,
                    "one version: " + all,
                    "split throughput " + Table.ratio(splitRatio) + ", p99 " + Table.ratio(splitP99)
                            + "; shadow throughput " + Table.ratio(shadowRatio) + ", p99 " + Table.ratio(shadowP99),
                    "split ≥ 0.95×, shadow ≥ 0.80× (throughput)",
                    Table.met(splitRatio >= 0.95 && shadowRatio >= 0.80 && halves.failed() == 0
                            && mirrored.failed() == 0)));
        }
    }

    private static void upload(URI base, String name, String query) throws IOException {
        byte[] body = new Multipart().file("package", "package.zip", Packages.zip(Packages.echoPackage(name)))
                .build();
        String answer = OnnxRows.send(HttpRequest.newBuilder(base.resolve("/api/deployments?" + query + "wait=120"))
                .header("Authorization", "Bearer " + Api.TOKEN).header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        if (!answer.contains("\"READY\"")) {
            throw new IllegalStateException("not READY: " + answer);
        }
    }

    private static void put(URI base, String model, String json) throws IOException {
        OnnxRows.send(HttpRequest.newBuilder(base.resolve("/api/models/" + model + "/traffic"))
                .header("Authorization", "Bearer " + Api.TOKEN).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** "same 41,200, dropped 3,100": what the shadow copies came to. */
    private static String outcomes(URI base) throws IOException {
        Object view = Api.parse(OnnxRows.send(HttpRequest.newBuilder(base.resolve("/api/models/shadow/traffic"))
                .header("Authorization", "Bearer " + Api.TOKEN)));
        Object o = ((java.util.Map<?, ?>) view).get("shadow_outcomes");
        java.util.Map<?, ?> m = (java.util.Map<?, ?>) o;
        return "copies same " + m.get("same") + ", different " + m.get("different") + ", error " + m.get("error")
                + ", dropped " + m.get("dropped");
    }
}
