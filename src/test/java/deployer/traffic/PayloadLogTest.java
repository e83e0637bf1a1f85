package deployer.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PayloadLogTest {

    @TempDir
    Path data;

    private static PayloadLog.Entry entry(int i, List<String> redact) {
        byte[] request = ("{\"i\": " + i + ", \"card\": \"4111-1111\", \"pad\": \"" + "x".repeat(100) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        return new PayloadLog.Entry(Instant.now(), 1, "application/json", request,
                "{\"ok\": true}".getBytes(StandardCharsets.UTF_8), "application/json", 200, 1.5, redact);
    }

    private long size(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            long total = 0;
            for (Path f : files.toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

    @Test
    void theCapDropsTheOldestRecordsFirst() throws Exception {
        long cap = 8 * 1024;
        try (PayloadLog log = new PayloadLog(data, cap)) {
            for (int i = 0; i < 300; i++) {
                log.offer("m", entry(i, List.of()));
            }
            log.flush();
            Path folder = data.resolve("m");
            // Within the cap, give or take the file being written (an eighth of it).
            assertThat(size(folder)).isLessThanOrEqualTo(cap + cap / 8);
            List<Object> newest = log.read("m", 1000);
            assertThat(newest).isNotEmpty().hasSizeLessThan(300);
            assertThat(((Map<?, ?>) ((Map<?, ?>) newest.get(0)).get("request")).get("i")).isEqualTo(299L);
            long oldestKept = (Long) ((Map<?, ?>) ((Map<?, ?>) newest.get(newest.size() - 1)).get("request")).get("i");
            assertThat(oldestKept).isGreaterThan(0L);
            // Every record from the oldest kept to the newest is there, in order: only the oldest were dropped.
            assertThat(newest).hasSize((int) (300 - oldestKept));
        }
    }

    @Test
    void redactionHappensBeforeTheLineIsWritten() throws Exception {
        byte[] line = PayloadLog.line(entry(1, List.of("card")));
        String text = new String(line, StandardCharsets.UTF_8);
        assertThat(text).doesNotContain("4111").contains("\"card\":\"***\"").endsWith("\n");
        assertThat(PayloadLog.redacted("not json".getBytes(StandardCharsets.UTF_8), "text/plain", List.of("x")))
                .isEqualTo(Map.of("content_type", "text/plain", "bytes", 8));
    }
}
