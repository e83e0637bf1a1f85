package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** /metrics counts what happened, and /api/stats shows the same traffic per model. */
class MetricsTest extends ServerTest {

    @Test
    void scrapeAfterTrafficAddsUp() {
        server.deploy(Packages.zip(TestModels.scripted("counted", "Counted", "",
                "if (\"boom\".equals(input)) throw new IllegalStateException(\"boom\"); return input;")));
        for (int i = 0; i < 7; i++) {
            assertThat(server.predict("counted", "\"ok\"").status()).isEqualTo(200);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(server.predict("counted", "\"boom\"").status()).isEqualTo(500);
        }
        assertThat(server.predict("counted", "{not json").status()).isEqualTo(400);
        assertThat(server.upload("not an archive".getBytes(), null).status()).isEqualTo(400);

        String metrics = scrape();

        String series = "{model=\"counted\",status=\"%s\",version=\"1\"}";
        assertThat(value(metrics, "deployer_requests_total" + series.formatted("200"))).isEqualTo(7);
        assertThat(value(metrics, "deployer_requests_total" + series.formatted("500"))).isEqualTo(3);
        assertThat(value(metrics, "deployer_requests_total" + series.formatted("400"))).isEqualTo(1);
        assertThat(value(metrics, "deployer_request_duration_seconds_count{model=\"counted\",version=\"1\"}"))
                .isEqualTo(11);
        assertThat(value(metrics, "deployer_request_duration_seconds_bucket{model=\"counted\",version=\"1\",le=\"+Inf\"}"))
                .isEqualTo(11);
        assertThat(value(metrics, "deployer_uploads_total{outcome=\"accepted\"}")).isEqualTo(1);
        assertThat(value(metrics, "deployer_uploads_total{outcome=\"rejected\"}")).isEqualTo(1);
        assertThat(value(metrics, "deployer_upload_bytes_count")).isEqualTo(2);
        assertThat(value(metrics, "deployer_upload_bytes_sum")).isGreaterThan(500);
        assertThat(value(metrics, "deployer_deploy_seconds_count{outcome=\"ready\"}")).isEqualTo(1);
        assertThat(value(metrics, "deployer_cell_load_seconds_count{model=\"counted\"}")).isEqualTo(1);
        assertThat(value(metrics, "deployer_model_state{model=\"counted\",state=\"READY\"}")).isEqualTo(1);
        assertThat(value(metrics, "deployer_model_healthy{model=\"counted\"}")).isEqualTo(1);
        assertThat(value(metrics, "deployer_model_active_version{model=\"counted\"}")).isEqualTo(1);
        assertThat(value(metrics, "deployer_requests_in_flight{model=\"counted\"}")).isEqualTo(0);
        assertThat(metrics).contains("jvm_memory_used_bytes").contains("jvm_threads_live_threads");
    }

    @Test
    void statsShowRequestsErrorsAndLatencyPerModel() {
        server.deploy(Packages.zip(TestModels.scripted("charted", "Charted", "",
                "if (\"boom\".equals(input)) throw new IllegalStateException(\"boom\"); return input;")));
        for (int i = 0; i < 5; i++) {
            server.predict("charted", "\"ok\"");
        }
        server.predict("charted", "\"boom\"");
        server.predict("charted", "{not json");

        Map<String, Object> stats = server.get("/api/stats").object();

        assertThat(stats).containsEntry("window_s", 600L).containsEntry("bucket_s", 10L);
        Map<String, Object> charted = TestServer.asMap(TestServer.asMap(stats.get("models")).get("charted"));
        assertThat(charted).containsEntry("version", 1L).containsEntry("requests_per_min", 7.0)
                .containsEntry("errors_per_min", 1.0).containsEntry("client_errors_per_min", 1.0);
        assertThat((Double) charted.get("p50_ms")).isPositive();
        assertThat((Double) charted.get("p99_ms")).isGreaterThanOrEqualTo((Double) charted.get("p50_ms"));
        assertThat((Double) charted.get("uptime_s")).isGreaterThanOrEqualTo(0.0);
        List<?> history = (List<?>) charted.get("history");
        assertThat(history).hasSize(60);
        long total = history.stream().mapToLong(p -> (Long) TestServer.asMap(p).get("requests")).sum();
        assertThat(total).isEqualTo(7);
        assertThat(history.stream().mapToLong(p -> (Long) TestServer.asMap(p).get("client_errors")).sum()).isEqualTo(1);
        assertThat(server.send(HttpRequest.newBuilder(server.uri("/api/stats")).GET()).status()).isEqualTo(401);
    }

    @Test
    void scoringAnswersCarryARequestId() {
        server.deploy(Packages.zip(TestModels.echo("traced")));

        var given = server.send(HttpRequest.newBuilder(server.uri("/models/traced/predict"))
                .header("X-Request-Id", "abc-123").POST(HttpRequest.BodyPublishers.ofString("1")));

        assertThat(given.status()).isEqualTo(200);
        assertThat(server.lastHeaders().firstValue("X-Request-Id")).contains("abc-123");
        server.predict("traced", "2");
        assertThat(server.lastHeaders().firstValue("X-Request-Id")).hasValueSatisfying(id -> assertThat(id).isNotBlank());
    }

    @Test
    void everyScoringRequestIsOneAccessLineAndEveryEventIsMirroredToTheLog() {
        ch.qos.logback.classic.Logger access =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("deployer.access");
        ch.qos.logback.classic.Logger events =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("deployer.events");
        var accessLines = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        var eventLines = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        accessLines.start();
        eventLines.start();
        access.addAppender(accessLines);
        events.addAppender(eventLines);
        try {
            server.deploy(Packages.zip(TestModels.echo("logged")));
            server.send(HttpRequest.newBuilder(server.uri("/models/logged/predict")).header("X-Request-Id", "r-1")
                    .POST(HttpRequest.BodyPublishers.ofString("1")));
            server.predict("logged", "{broken");

            List<String> lines = accessLines.list.stream().map(e -> e.getFormattedMessage())
                    .filter(l -> l.startsWith("logged ")).toList();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).matches("logged v1 200 \\d+ us id=r-1");
            assertThat(lines.get(1)).startsWith("logged v1 400 ");
            List<String> mirrored = eventLines.list.stream().map(e -> e.getFormattedMessage())
                    .filter(l -> l.startsWith("logged v1")).toList();
            List<Object> stored = server.get("/api/events?model=logged").list();
            assertThat(mirrored).hasSize(stored.size());
            assertThat(mirrored).anyMatch(l -> l.contains("[ready] READY on port"));
        } finally {
            access.detachAppender(accessLines);
            events.detachAppender(eventLines);
        }
    }

    @Test
    void aRetiredVersionsSeriesStayAfterARollForwardUntilTheVersionIsDeleted() {
        server.deploy(Packages.zip(TestModels.echo("rolled")));
        assertThat(server.predict("rolled", "{}").status()).isEqualTo(200);
        server.deploy(Packages.zip(TestModels.echo("rolled")));
        assertThat(server.predict("rolled", "{}").status()).isEqualTo(200);
        String v1 = "deployer_requests_total{model=\"rolled\",status=\"200\",version=\"1\"}";

        assertThat(value(scrape(), v1)).isEqualTo(1);
        assertThat(server.send(HttpRequest.newBuilder(server.uri("/api/models/rolled/versions/1"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE()).status()).isEqualTo(204);
        assertThat(scrape()).doesNotContain(v1)
                .contains("deployer_requests_total{model=\"rolled\",status=\"200\",version=\"2\"}");
    }

    private String scrape() {
        TestServer.Response r = server.send(HttpRequest.newBuilder(server.uri("/metrics")).GET());
        assertThat(r.status()).isEqualTo(200);
        return r.text();
    }

    /** The value of one exact series line; fails when absent. */
    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        assertThat(m.find()).as("series %s in:%n%s", series, metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
