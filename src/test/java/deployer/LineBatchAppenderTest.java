package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import deployer.core.LineBatchAppender;

/** The access log's appender, on a real file: every line once and whole, promptly, and overflow counted not blocked. */
class LineBatchAppenderTest {

    @TempDir
    Path dir;

    @Test
    void linesFromManyThreadsArriveWholeAndEachOnce() throws Exception {
        Path file = dir.resolve("access.log");
        LineBatchAppender appender = appender(file, 100_000);
        Logger logger = logger(appender);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        for (int t = 0; t < 8; t++) {
            int thread = t;
            threads.execute(() -> IntStream.range(0, 5_000).forEach(i -> logger.info("t{} n{}", thread, i)));
        }
        threads.shutdown();
        assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

        List<String> lines = Eventually.get(() -> lines(file), l -> l.size() >= 40_000);
        assertThat(lines).hasSize(40_000).allMatch(l -> l.matches("access t\\d n\\d+")).doesNotHaveDuplicates();
        appender.stop();
    }

    @Test
    void aLineIsWrittenWithoutWaitingForMore() throws Exception {
        Path file = dir.resolve("quiet.log");
        LineBatchAppender appender = appender(file, 10);
        Logger logger = logger(appender);
        logger.info("only one");
        assertThat(Eventually.get(() -> lines(file), l -> !l.isEmpty())).containsExactly("access only one");
        logger.info("and a second, later");
        assertThat(Eventually.get(() -> lines(file), l -> l.size() == 2)).last()
                .isEqualTo("access and a second, later");
        appender.stop();
    }

    @Test
    void pastItsCapacityLinesAreDroppedAndCountedNeverWaitedFor() throws Exception {
        Path file = dir.resolve("full.log");
        LineBatchAppender appender = appender(file, 1);
        Logger logger = logger(appender);
        long start = System.nanoTime();
        for (int i = 0; i < 200_000; i++) {
            logger.info("line {}", i);
        }
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        appender.stop();
        String text = Files.readString(file);
        assertThat(text).contains("lines dropped: written slower than requests came");
        long written = text.lines().filter(l -> l.startsWith("access line ")).count();
        long reported = text.lines().filter(l -> l.contains("lines dropped"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D*(\\d+) lines dropped.*", "$1"))).sum();
        assertThat(written + reported).as("every line written or counted (took %d ms)", tookMs).isEqualTo(200_000);
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private LineBatchAppender appender(Path file, int capacity) {
        LoggerContext context = new LoggerContext();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("access %msg%n");
        encoder.start();
        LineBatchAppender appender = new LineBatchAppender();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setFile(file.toString());
        appender.setCapacity(capacity);
        appender.start();
        return appender;
    }

    private static Logger logger(LineBatchAppender appender) {
        Logger logger = ((LoggerContext) appender.getContext()).getLogger("test.access");
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
        logger.addAppender(appender);
        return logger;
    }
}
