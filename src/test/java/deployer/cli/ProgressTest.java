package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The upload's progress bar: only on a terminal, only after the first second, on one line redrawn in place. */
class ProgressTest {

    final StringWriter err = new StringWriter();
    final AtomicLong clock = new AtomicLong(1_000_000);

    @Test
    void notATerminalDrawsNothing() {
        Progress progress = new Progress(new PrintWriter(err), false, "m.zip", 1000, clock::get);

        clock.addAndGet(5000);
        progress.add(1000);
        progress.finish();

        assertThat(err.toString()).isEmpty();
    }

    @Test
    void aQuickUploadDrawsNothing() {
        Progress progress = new Progress(new PrintWriter(err), true, "m.zip", 1000, clock::get);

        clock.addAndGet(Progress.QUIET_MS - 1);
        progress.add(1000);
        progress.finish();

        assertThat(err.toString()).isEmpty();
    }

    @Test
    void aSlowUploadOnATerminalDrawsABarAndEndsItsLine() {
        Progress progress = new Progress(new PrintWriter(err), true, "m.zip", 4 * 1024 * 1024, clock::get);

        clock.addAndGet(2000);
        progress.add(1024 * 1024);
        clock.addAndGet(2000);
        progress.add(3 * 1024 * 1024);
        progress.finish();

        assertThat(err.toString())
                .startsWith("\ruploading m.zip [########----------------------]  25%  1.0 MiB of 4.0 MiB  512.0 KiB/s")
                .contains("\ruploading m.zip [##############################] 100%  4.0 MiB of 4.0 MiB  1.0 MiB/s")
                .endsWith(System.lineSeparator());
    }
}
