package deployer.cell;

import deployer.cell.process.FrameServer;
import deployer.core.DeployerException;
import deployer.core.OurBug;
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

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FrameScoring.class);

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
        if (body.length > call.maxBodyBytes()) {
            FrameServer.Answer tooLarge = failed(call.bodyTooLarge());
            call.finish(tooLarge.status());
            return tooLarge;
        }
        CompletableFuture<FrameServer.Answer> scored = new CompletableFuture<>();
        try {
            // On this thread, as a thread of the model's port scores. The call is finished when its answer is
            // known — at the deadline, too, while the model's code may still hold this thread (a System.exit in
            // it, say): the cell's drain must not wait for that code.
            call.score(new CellRequest(contentType, body, headers), true, (done, failure) -> {
                FrameServer.Answer answer = failure == null ? new FrameServer.Answer(done.status(),
                        done.contentType(), List.of("x-deployer-version", Integer.toString(call.version())),
                        done.body()) : failed(failure);
                call.finish(answer.status());
                scored.complete(answer);
            });
        } catch (RuntimeException e) {
            FrameServer.Answer answer = failed(e);
            call.finish(answer.status());
            return answer;
        }
        try {
            return scored.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(503, "the model's process is stopping; retry shortly");
        } catch (ExecutionException e) {
            return failed(e.getCause());
        }
    }

    /** A failure as the one error table answers it: a DeployerException's status and message, else our bug. */
    private static FrameServer.Answer failed(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof DeployerException known) {
            return error(known.kind().status(), known.getMessage());
        }
        // Cell turns each failure of a model into a DeployerException: anything else is a bug of ours.
        return new FrameServer.Answer(500, "application/json", List.of(),
                Json.writeString(OurBug.log(log, cause).body()).getBytes(StandardCharsets.UTF_8));
    }

    private static FrameServer.Answer error(int status, String message) {
        return new FrameServer.Answer(status, "application/json", List.of(),
                Json.writeString(Map.of("error", message)).getBytes(StandardCharsets.UTF_8));
    }
}
