package deployer.cell;

import deployer.cell.process.FrameServer;
import deployer.core.DeployerException;
import deployer.core.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * In a process cell's child: one of the server's frames through the one scoring path, as the child's HTTP
 * {@code /predict} takes it — {@link ModelSlot#admit} (the child's own {@code limits.max_concurrent}), the body's
 * {@code limits.max_body_mb}, {@link Call#score} with its deadline on the frame's own thread (as a thread of the
 * model's port), {@link Call#finish} metering — and every failure answered with its kind's status and message, the
 * JSON error the server would have sent. Here rather than beside {@link FrameServer}: this package already depends on
 * that one.
 */
public final class FrameScoring implements FrameServer.Scoring {

    private final ModelSlot slot;

    public FrameScoring(ModelSlot slot) {
        this.slot = slot;
    }

    @Override
    public FrameServer.Answer score(String contentType, byte[] body, Map<String, List<String>> headers) {
        List<String> ids = headers.get("x-request-id");
        String requestId = ids != null ? ids.get(0) : Long.toHexString(ThreadLocalRandom.current().nextLong());
        Call call;
        try {
            call = slot.admit(requestId);
        } catch (DeployerException e) {
            return error(e.kind().status(), e.getMessage());
        }
        FrameServer.Answer answer = null;
        try {
            if (body.length > call.maxBodyBytes()) {
                throw DeployerException.tooLarge("the request body is over " + (call.maxBodyBytes() >> 20)
                        + " MiB, the limit of model " + call.model() + " (limits.max_body_mb); send smaller batches");
            }
            CompletableFuture<CellResponse> scored = new CompletableFuture<>();
            // On this thread: when score returns, the answer (or the deadline's 504) is there.
            call.score(new CellRequest(contentType, body, headers), true, (done, failure) -> {
                if (failure != null) {
                    scored.completeExceptionally(failure);
                } else {
                    scored.complete(done);
                }
            });
            CellResponse done = scored.get();
            answer = new FrameServer.Answer(done.status(), done.contentType(),
                    List.of("x-deployer-version", Integer.toString(call.version())), done.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer = error(503, "the model's process is stopping; retry shortly");
        } catch (ExecutionException e) {
            answer = failed(e.getCause());
        } catch (DeployerException e) {
            answer = failed(e);
        } finally {
            // Metered with the status sent; a bug of ours (no answer here) is FrameServer's 500.
            call.finish(answer == null ? 500 : answer.status());
        }
        return answer;
    }

    private FrameServer.Answer failed(Throwable failure) {
        if (failure instanceof DeployerException known) {
            return error(known.kind().status(), known.getMessage());
        }
        // Cell turns each failure of a model into a DeployerException: anything else is a bug of ours.
        throw new IllegalStateException("scoring failed", failure);
    }

    private static FrameServer.Answer error(int status, String message) {
        return new FrameServer.Answer(status, "application/json", List.of(),
                Json.writeString(Map.of("error", message)).getBytes(StandardCharsets.UTF_8));
    }
}
