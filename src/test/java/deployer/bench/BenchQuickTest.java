package deployer.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the benchmark's quick mode, so the harness cannot rot. It checks that every row ran and the table is well
 * formed — never a timing, which on a shared machine says nothing about the code.
 */
class BenchQuickTest {

    /**
     * The rows of the quick run: every one but rows 21-22 (replicas, nginx), which start six server processes on
     * PostgreSQL and take about a minute even small: {@code bin/bench --only 21,22} runs them.
     */
    private static final List<Integer> ROWS = java.util.stream.Stream.concat(
            java.util.stream.IntStream.rangeClosed(1, 20).boxed(), java.util.stream.Stream.of(23)).toList();

    @Test
    // A guard against a hang, not a timing: about 2.5 minutes on a quiet 2-core box, near 6 beside other builds.
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void quickModeMeasuresEveryRowAndPrintsOneTable(@TempDir Path work) {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Table table = Bench.run(Options.quick(Optional.empty(), work.resolve("bench")).only(Set.copyOf(ROWS)),
                new PrintStream(progress, true, StandardCharsets.UTF_8));

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        table.print(new PrintStream(printed, true, StandardCharsets.UTF_8));
        List<String> lines = printed.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(2 + ROWS.size());
        assertThat(lines.get(0)).isEqualTo("| # | what | measured | compared with | ratio | target | met |");
        for (int i = 0; i < ROWS.size(); i++) {
            int row = ROWS.get(i);
            String line = lines.get(2 + i);
            assertThat(line).startsWith("| " + row + " | ").endsWith(" |");
            assertThat(line.split(" \\| ", -1)).as(line).hasSize(Table.HEADER.length);
        }
        assertThat(table.rows()).as(progress.toString(StandardCharsets.UTF_8))
                .allSatisfy(r -> assertThat(r.measured()).doesNotStartWith("error"));
        assertThat(table.rows().get(0).measured()).contains("req/s");
        assertThat(table.rows().get(2).measured()).contains("failed");
    }
}
