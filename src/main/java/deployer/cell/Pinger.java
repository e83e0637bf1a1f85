package deployer.cell;

import deployer.pack.Manifest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * Pings a cell's {@code GET /health} on its own port over real HTTP until it answers 200, retrying at growing
 * intervals ({@code health.attempts}, {@code first_delay_ms}, {@code backoff}). Waits are scheduled, not slept.
 */
final class Pinger {

    /** Hears about every attempt, so each one lands in the audit log. */
    interface Listener {
        void attempt(int attempt, int of, boolean up, String detail);
    }

    /** The cell never answered; {@code attempts} says how often it was asked. */
    static final class NoAnswer extends RuntimeException {
        final int attempts;

        NoAnswer(int attempts, String message) {
            super(message);
            this.attempts = attempts;
        }
    }

    // Made at the first ping: building an HttpClient sets up the JDK's TLS stack (400 classes, ~0.3 s), which a
    // server with no model yet should not wait for before it answers.
    private volatile HttpClient client;
    private final ScheduledExecutorService scheduler;
    private final Executor executor;
    /** With TLS on the cell ports: trusts the server's own certificate; null for plain HTTP. */
    private final SSLContext tls;

    Pinger(ScheduledExecutorService scheduler, Executor executor) {
        this(scheduler, executor, null);
    }

    Pinger(ScheduledExecutorService scheduler, Executor executor, SSLContext tls) {
        this.scheduler = scheduler;
        this.executor = executor;
        this.tls = tls;
    }

    private HttpClient client() {
        HttpClient made = client;
        if (made == null) {
            synchronized (this) {
                made = client;
                if (made == null) {
                    HttpClient.Builder builder = HttpClient.newBuilder().executor(executor)
                            .connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1);
                    if (tls != null) {
                        builder.sslContext(tls);
                    }
                    made = builder.build();
                    client = made;
                }
            }
        }
        return made;
    }

    /** Completes with the number of attempts it took, or fails with {@link NoAnswer}. */
    CompletableFuture<Integer> untilUp(URI health, long deployId, Manifest.Health policy, Listener listener) {
        return attempt(health, deployId, policy, listener, 1, policy.firstDelayMs());
    }

    private CompletableFuture<Integer> attempt(URI health, long deployId, Manifest.Health policy, Listener listener,
                                               int attempt, double nextDelayMs) {
        return once(health, deployId, policy.timeoutMs()).thenCompose(failure -> {
            listener.attempt(attempt, policy.attempts(), failure == null, failure == null ? "UP" : failure);
            if (failure == null) {
                return CompletableFuture.completedFuture(attempt);
            }
            if (attempt >= policy.attempts()) {
                throw new NoAnswer(attempt, "GET /health did not answer UP after " + attempt + " attempt"
                        + (attempt == 1 ? "" : "s") + "; last: " + failure);
            }
            return after((long) nextDelayMs).thenCompose(ignored -> attempt(health, deployId, policy, listener,
                    attempt + 1, nextDelayMs * policy.backoff()));
        });
    }

    /** One ping: completes with null when UP, otherwise with what went wrong. */
    CompletableFuture<String> once(URI health, Long deployId, long timeoutMs) {
        // The callers name the cell's port as http://; with TLS the same port speaks https.
        URI target = tls != null && "http".equals(health.getScheme()) ? URI.create("https" + health.toString().substring(4))
                : health;
        HttpRequest.Builder request = HttpRequest.newBuilder(target).timeout(Duration.ofMillis(timeoutMs)).GET();
        if (deployId != null) {
            request.header(ModelSlot.CELL_HEADER, Long.toString(deployId));
        }
        return client().sendAsync(request.build(), HttpResponse.BodyHandlers.ofString())
                .handle((response, error) -> {
                    if (error != null) {
                        Throwable cause = error instanceof CompletionException && error.getCause() != null
                                ? error.getCause() : error;
                        return Cell.describe(cause);
                    }
                    if (response.statusCode() == 200) {
                        return null;
                    }
                    return "status " + response.statusCode() + " " + response.body();
                });
    }

    private CompletableFuture<Void> after(long delayMs) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        scheduler.schedule(() -> executor.execute(() -> done.complete(null)), delayMs, TimeUnit.MILLISECONDS);
        return done;
    }
}
