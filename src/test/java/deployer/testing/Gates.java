package deployer.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;

/**
 * A gate a test model waits at: a file the test creates when the model may go on. The model side is Java source to
 * paste into a test model's {@code load} or {@code score}: it writes {@code entered} beside the gate (so the test
 * knows the model is held there, {@link #awaitEntered}), then waits at most a minute, so a test that forgets to open
 * its gate fails on its own assertion instead of hanging.
 */
public final class Gates {

    private Gates() {
    }

    /** Model source that waits until the file named by the model property {@code property} exists. */
    public static String awaitSource(String property) {
        return """
                {
                    java.nio.file.Path gate$ = java.nio.file.Path.of(context.properties().get("%s"));
                    java.nio.file.Files.write(gate$.resolveSibling("entered"), new byte[0]);
                    long end$ = System.nanoTime() + 60_000_000_000L;
                    while (!java.nio.file.Files.exists(gate$) && System.nanoTime() < end$) {
                        Thread.sleep(10);
                    }
                }
                """.formatted(property);
    }

    /** Waits until a model has reached {@code gate} (the marker its source writes beside it). */
    public static void awaitEntered(Path gate) {
        Path entered = gate.resolveSibling("entered");
        Awaitility.await("a model at the gate " + gate).atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(10)).until(() -> Files.exists(entered));
    }

    /** Lets every model waiting at {@code gate} go on. */
    public static void open(Path gate) {
        try {
            Files.createFile(gate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
