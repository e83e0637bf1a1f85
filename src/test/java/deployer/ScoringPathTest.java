package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/**
 * The one scoring path against clients a production server meets: bodies too large for the model or the server,
 * bodies that stall or stop half way, and models that answer what they should not. Real sockets throughout.
 */
class ScoringPathTest extends ServerTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private int deploy(String name, String limits) throws Exception {
        Map<String, byte[]> files = TestModels.echo(name);
        files.put("deploy.json", TestModels.bytes("{\"name\": \"" + name + "\", \"entry\": \"example.Echo\""
                + (limits == null ? "" : ", \"limits\": " + limits) + "}"));
        return ((Number) server.deploy(Packages.zip(files)).get("port")).intValue();
    }

    private static byte[] jsonString(int bytes) {
        byte[] body = new byte[bytes];
        Arrays.fill(body, (byte) 'a');
        body[0] = '"';
        body[bytes - 1] = '"';
        return body;
    }

    @Test
    void bodyOverItsModelsMaxBodyIsRefused413BeforeItIsSent() throws Exception {
        int port = deploy("small", "{\"max_body_mb\": 1}");

        for (int target : List.of(port, server.port())) {
            String path = target == port ? "/predict" : "/models/small/predict";
            try (RawHttp client = new RawHttp(target)) {
                // Only the headers go: the answer must come without the server waiting for the 2 MiB.
                RawHttp.Answer refused = client.post(path, 2 << 20).read(5_000);
                assertThat(refused.status()).isEqualTo(413);
                assertThat(refused.body()).contains("limits.max_body_mb").contains("small");
            }
        }
        try (RawHttp chunked = new RawHttp(port)) {
            chunked.post("/predict", -1).chunk(jsonString(700 << 10));
            chunked.chunk(new byte[700 << 10]);
            assertThat(chunked.read(5_000).status()).isEqualTo(413);
        }
        assertThat(server.post(server.uri("/models/small/predict"), "\"fits\"").status()).isEqualTo(200);
    }

    @Test
    void bodyThatWouldNotFitTheScoringMemoryIs503WithRetryAfterAndItsShareComesBack() throws Exception {
        server.close();
        server = TestServer.start(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any())
                .withToken(TestServer.TOKEN).withScoringMemoryMb(1));
        int port = deploy("roomy", null);
        byte[] holding = jsonString(800 << 10);

        try (RawHttp holder = new RawHttp(port)) {
            holder.post("/predict", holding.length).write(Arrays.copyOf(holding, 10));
            // Admitted (and its share of the memory taken) before the next one comes.
            Eventually.get(() -> server.send(HttpRequest.newBuilder(server.uri("/metrics")).GET()).text(),
                    m -> m.contains("deployer_requests_in_flight{model=\"roomy\"} 1"));
            try (RawHttp second = new RawHttp(server.port())) {
                RawHttp.Answer refused = second.post("/models/roomy/predict", 400 << 10).read(5_000);
                assertThat(refused.status()).isEqualTo(503);
                assertThat(refused.headers()).containsEntry("retry-after", "1");
                assertThat(refused.body()).contains("--scoring-memory-mb");
            }
            holder.write(Arrays.copyOfRange(holding, 10, holding.length));
            assertThat(holder.read(10_000).status()).isEqualTo(200);
        }
        // Every byte reserved came back exactly once: a body of almost all of it fits again, twice in a row.
        for (int i = 0; i < 2; i++) {
            try (RawHttp again = new RawHttp(port)) {
                byte[] big = jsonString((1 << 20) - 64);
                assertThat(again.post("/predict", big.length).write(big).read(10_000).status()).isEqualTo(200);
            }
        }
    }

    @Test
    void stalledBodyIsAnswered408AfterItsTimeoutWithNothingLoudInTheLog() throws Exception {
        int port = deploy("stall", "{\"body_timeout_ms\": 300}");
        try (LogLines log = new LogLines()) {
            try (RawHttp client = new RawHttp(port)) {
                RawHttp.Answer answer = client.post("/predict", 100).write("\"abc".getBytes(StandardCharsets.UTF_8))
                        .read(10_000);
                assertThat(answer.status()).isEqualTo(408);
                assertThat(answer.body()).contains("limits.body_timeout_ms").contains("stall");
            }
            assertThat(Eventually.get(() -> log.of("deployer.access"), l -> !l.isEmpty()).get(0))
                    .startsWith("stall v1 408 ");
            assertThat(log.loud()).isEmpty();
        }
        assertThat(server.predict("stall", "1").status()).isEqualTo(200);
    }

    @Test
    void clientsThatHangUpMidBodyAreNotOurErrors() throws Exception {
        int port = deploy("hangup", null);
        try (LogLines log = new LogLines()) {
            for (int target : List.of(port, server.port())) {
                String path = target == port ? "/predict" : "/models/hangup/predict";
                try (RawHttp client = new RawHttp(target)) {
                    client.post(path, 1000).write("{\"cut".getBytes(StandardCharsets.UTF_8));
                }
                try (RawHttp chunked = new RawHttp(target)) {
                    chunked.post(path, -1).chunk("{\"cut".getBytes(StandardCharsets.UTF_8));
                }
            }
            Eventually.get(() -> log.of("deployer.access"), l -> l.size() >= 4);
            assertThat(log.of("deployer.access")).allMatch(l -> l.startsWith("hangup v1 400 "));
            assertThat(log.loud()).isEmpty();
        }
        assertThat(server.predict("hangup", "1").status()).isEqualTo(200);
    }

    @Test
    void informationalReplyStatusIsA500NamingTheModelWithAFinalAnswer() throws Exception {
        Map<String, byte[]> files = TestModels.scripted("informal", "Informal", "", "return input;", """
                @Override
                public Reply reply(Object prediction) {
                    return Reply.json(prediction).status(101);
                }
                """);
        int port = ((Number) server.deploy(Packages.zip(files)).get("port")).intValue();

        for (URI uri : List.of(server.uri("/models/informal/predict"), URI.create("http://127.0.0.1:" + port
                + "/predict"))) {
            TestServer.Response r = server.post(uri, "1");
            assertThat(r.status()).isEqualTo(500);
            assertThat(r.error()).contains("informal").contains("101");
        }
    }

    @Test
    void v2InferOfAModelAnsweringHtmlIsASandboxedJsonErrorCountedAsSent() throws Exception {
        Map<String, byte[]> files = TestModels.scripted("htmler", "Htmler", "", "return input;", """
                @Override
                public Reply reply(Object prediction) {
                    return Reply.bytes("text/html", "<script>fetch('/api/models')</script>".getBytes());
                }
                """);
        server.deploy(Packages.zip(files));
        String infer = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}";

        try (LogLines log = new LogLines()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri("/v2/models/htmler/infer"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(infer)).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
            assertThat(r.headers().firstValue("content-security-policy")).hasValue("sandbox");
            assertThat(r.headers().firstValue("x-content-type-options")).hasValue("nosniff");
            assertThat(r.body()).contains("htmler").contains("not JSON").doesNotContain("<script>");
            assertThat(Eventually.get(() -> log.of("deployer.access"), l -> !l.isEmpty()).get(0))
                    .startsWith("htmler v1 500 ");
        }
        HttpResponse<String> metadata = http.send(HttpRequest.newBuilder(server.uri("/v2/models/htmler")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metadata.headers().firstValue("content-security-policy")).hasValue("sandbox");
    }

    @Test
    void slowBodiesSaturatingOneModelLeaveTheApiMetricsAndOtherModelsAnswering() throws Exception {
        server.close();
        server = TestServer.start(Settings.defaults(data).withPort(0).withCellPorts(Settings.PortRange.any())
                .withToken(TestServer.TOKEN).withPingIntervalMs(200));
        int trickledPort = deploy("trickled", "{\"max_concurrent\": 4}");
        int otherPort = deploy("bystander", null);
        List<RawHttp> trickling = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                RawHttp client = new RawHttp(i % 3 == 0 ? server.port() : trickledPort);
                client.post(i % 3 == 0 ? "/models/trickled/predict" : "/predict", 1000).write(new byte[] {'"'});
                trickling.add(client);
            }
            long end = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < end) {
                for (URI uri : List.of(server.uri("/api/models"), server.uri("/metrics"),
                        URI.create("http://127.0.0.1:" + trickledPort + "/health"))) {
                    assertThat(quick(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + TestServer.TOKEN)
                            .GET()).statusCode()).as(uri.toString())
                            .isEqualTo(200);
                }
                for (URI uri : List.of(server.uri("/models/bystander/predict"),
                        URI.create("http://127.0.0.1:" + otherPort + "/predict"))) {
                    assertThat(quick(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("1")))
                            .statusCode()).as(uri.toString()).isEqualTo(200);
                }
                // The trickled model itself refuses at once what it has no room for.
                assertThat(quick(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + trickledPort + "/predict"))
                        .POST(HttpRequest.BodyPublishers.ofString("1"))).statusCode()).isEqualTo(503);
            }
        } finally {
            for (RawHttp client : trickling) {
                client.close();
            }
        }
        assertThat(HotSwapTest.kinds(server, "trickled")).doesNotContain("ping-failed", "restarting");
    }

    /** A request that must be answered within a second: the test fails on a slower one. */
    private HttpResponse<String> quick(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
