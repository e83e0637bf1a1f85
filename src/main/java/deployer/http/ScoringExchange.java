package deployer.http;

import deployer.core.DeployerException;
import deployer.core.DeployerException.Kind;
import deployer.core.Json;
import deployer.cell.CellResponse;
import deployer.cell.Call;
import deployer.cell.CellRequest;
import deployer.cell.ModelSlot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scoring request through the one path: admitted ({@link ModelSlot#admit}) before its body is read; the body
 * checked against {@code limits.max_body_mb} and the server's {@link ScoringMemory} before a byte of it is buffered,
 * read without blocking, and given up with a 408 past {@code limits.body_timeout_ms}; scored; answered exactly once,
 * with the status then metered and logged ({@link Call#finish}). Every failure becomes the JSON error of
 * {@link Errors}; a client that goes away or stalls is answered (or not, if it is gone) without a line above DEBUG.
 */
final class ScoringExchange {

    private static final Logger log = LoggerFactory.getLogger(ScoringExchange.class);

    private static final int READING = 0;
    private static final int SCORING = 1;
    private static final int DONE = 2;
    /** A chunked body grows its buffer, and its share of the scoring memory, in steps of at least this. */
    private static final int FIRST_CHUNKED_BYTES = 16 * 1024;

    private final Request request;
    private final Response response;
    private final Callback callback;
    private final ScoringHandler.ScoringRoute route;
    private final ScoringMemory memory;
    private final boolean mainPort;
    private final String requestId;
    private final AtomicInteger state = new AtomicInteger(READING);
    private Call call;
    private boolean onThisThread;
    private long maxBody;
    private byte[] body;
    private int length;
    /** Bytes of the scoring memory this request holds; given back once, as it is answered. */
    private long reserved;
    private boolean memoryReleased;
    private boolean watched;
    private ModelSlot slot;
    private CellRequest input;
    private final long started = System.nanoTime();
    private Runnable afterSent;

    ScoringExchange(Request request, Response response, Callback callback, ScoringHandler.ScoringRoute route,
                    ScoringMemory memory, boolean mainPort, String requestId) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.route = route;
        this.memory = memory;
        this.mainPort = mainPort;
        this.requestId = requestId;
    }

    /** Admits the request to {@code slot}'s active cell and starts reading its body. */
    void start(ModelSlot slot, boolean onThisThread) {
        start(slot, deployer.cell.VersionChoice.ACTIVE, onThisThread);
    }

    /** Admits the request to the version of {@code slot}'s model that {@code choice} names, and reads its body. */
    void start(ModelSlot slot, deployer.cell.VersionChoice choice, boolean onThisThread) {
        this.onThisThread = onThisThread;
        this.slot = slot;
        try {
            call = slot.admit(requestId, choice);
        } catch (DeployerException e) {
            refuse(e);
            return;
        }
        maxBody = call.maxBodyBytes();
        long declared = request.getLength();
        if (declared > maxBody) {
            fail(tooLarge());
            return;
        }
        if (declared > 0 && !reserve(declared)) {
            fail(noMemory());
            return;
        }
        body = new byte[declared >= 0 ? (int) declared : 0];
        read();
    }

    /** Answers a request that never reached a cell (no such model, wrong method, not admitted). */
    void refuse(DeployerException failure) {
        if (state.getAndSet(DONE) != DONE) {
            sendError(failure.kind().status(), failure.getMessage(), failure.kind() == Kind.UNAVAILABLE);
        }
    }

    /** Refuses the request before admission for any failure, answered through {@link Errors}' one table. */
    void refuse(RuntimeException failure) {
        if (failure instanceof DeployerException known) {
            refuse(known);
            return;
        }
        if (state.getAndSet(DONE) != DONE) {
            Errors.Answer answer = Errors.answer(failure);
            sendError(answer.status(), answer.body(), answer.status() == 503);
        }
    }

    /** Reads what has arrived; asks to be called again when more does. */
    private void read() {
        while (state.get() == READING) {
            Content.Chunk chunk = request.read();
            if (chunk == null) {
                if (!watched) {
                    // Only a body that does not come at once is timed: most arrive with their headers.
                    watched = true;
                    call.watchBody(this::bodyTimedOut);
                }
                request.demand(this::read);
                return;
            }
            if (Content.Chunk.isFailure(chunk)) {
                Throwable failure = chunk.getFailure();
                chunk.release();
                readFailed(failure);
                return;
            }
            boolean last = chunk.isLast();
            try {
                ByteBuffer bytes = chunk.getByteBuffer();
                if (bytes.hasRemaining() && !append(bytes)) {
                    return;
                }
            } finally {
                chunk.release();
            }
            if (last) {
                bodyRead();
                return;
            }
        }
    }

    private boolean append(ByteBuffer bytes) {
        int n = bytes.remaining();
        long needed = (long) length + n;
        if (needed > maxBody) {
            fail(tooLarge());
            return false;
        }
        if (needed > body.length) {
            // A chunked body (or one longer than it said): grow, taking the memory first.
            long grown = Math.min(maxBody, Math.max(needed, Math.max(FIRST_CHUNKED_BYTES, 2L * body.length)));
            if (!reserve(grown - body.length)) {
                fail(noMemory());
                return false;
            }
            body = java.util.Arrays.copyOf(body, (int) grown);
        }
        bytes.get(body, length, n);
        length += n;
        return true;
    }

    /**
     * Takes {@code bytes} more of the scoring memory. Synchronized with {@link #releaseMemory}: a 408 answered by the
     * timer while this thread still reads must not leave a share taken after the release.
     */
    private synchronized boolean reserve(long bytes) {
        if (memoryReleased || !memory.tryReserve(bytes)) {
            return false;
        }
        reserved += bytes;
        return true;
    }

    /** Gives back this request's share of the scoring memory, once. */
    private synchronized void releaseMemory() {
        if (!memoryReleased) {
            memoryReleased = true;
            memory.release(reserved);
            reserved = 0;
        }
    }

    private void bodyRead() {
        if (!state.compareAndSet(READING, SCORING)) {
            return;
        }
        call.bodyRead();
        byte[] bytes = length == body.length ? body : java.util.Arrays.copyOf(body, length);
        try {
            input = route.input(call, new CellRequest(request.getHeaders().get(HttpHeader.CONTENT_TYPE), bytes,
                    headers()));
        } catch (RuntimeException e) {
            fail(e);
            return;
        }
        try {
            call.score(input, onThisThread, (answer, failure) -> {
                if (failure != null) {
                    fail(failure);
                } else {
                    answer(answer);
                }
            });
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void answer(CellResponse answer) {
        CellResponse out;
        try {
            out = route.output(call, answer);
        } catch (RuntimeException e) {
            fail(e);
            return;
        }
        if (state.getAndSet(DONE) == DONE) {
            return;
        }
        deployer.cell.ScoringTap tap = slot.tap();
        if (tap != null) {
            // Shadow copies and payload records: handed on only once the answer is written (DESIGN 1.11).
            int version = call.version();
            CellRequest scored = input;
            long nanos = System.nanoTime() - started;
            afterSent = () -> tap.answered(version, scored, answer, out.status(), out.body(), nanos);
        }
        out.headers().forEach(response.getHeaders()::put);
        send(out.status(), out.contentType(), out.body());
    }

    private void bodyTimedOut() {
        if (state.compareAndSet(READING, DONE)) {
            log.debug("{} - body not complete within limits.body_timeout_ms; answered 408", requestId);
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            sendError(408, "the request body did not arrive within " + call.manifest().limits().bodyTimeoutMs()
                    + " ms (limits.body_timeout_ms of model " + call.model() + ")", false);
        }
    }

    /** The client went away, sent less than it said, or stalled past the idle timeout: not an error of ours. */
    private void readFailed(Throwable failure) {
        if (!state.compareAndSet(READING, DONE)) {
            return;
        }
        boolean idle = Errors.isTimeout(failure);
        log.debug("{} - reading the body failed: {}", requestId, failure.toString());
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        sendError(idle ? 408 : 400, idle ? "the request body stopped arriving; send it whole"
                : "the request body ended early: " + failure.getMessage(), false);
    }

    /** Any failure once admitted: answered through the one table of {@link Errors}. */
    private void fail(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        int was = state.getAndSet(DONE);
        if (was == DONE) {
            return;
        }
        Errors.Answer answer = Errors.answer(cause);
        int status = answer.status();
        if (was == READING) {
            // The rest of the body is not read: the connection cannot carry another request.
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
        if (cause instanceof DeployerException known && known.kind() == Kind.TIMEOUT && onThisThread) {
            // The deadline passed while the model's code still holds the thread that read this request: the
            // connection cannot read its next request until that code returns, so the client is told not to send one.
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
        sendError(status, answer.body(), status == 503);
    }

    private void sendError(int status, String message, boolean retry) {
        sendError(status, Map.of("error", message), retry);
    }

    private void sendError(int status, Map<String, Object> body, boolean retry) {
        if (retry) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        }
        byte[] json;
        try {
            json = Json.write(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            json = "{\"error\":\"internal error\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        send(status, "application/json", json);
    }

    /** Writes the one response; the status is what the metrics and the access log record. */
    private void send(int status, String contentType, byte[] bytes) {
        if (call != null) {
            call.finish(status);
        }
        releaseMemory();
        response.setStatus(status);
        var headers = response.getHeaders();
        headers.put(HttpHeader.CONTENT_TYPE, contentType);
        headers.put("X-Request-Id", requestId);
        if (call != null) {
            headers.put("X-Deployer-Version", Integer.toString(call.version()));
        }
        if (mainPort) {
            // A model may answer HTML: on the admin page's origin it must not run as the admin page.
            headers.put("Content-Security-Policy", "sandbox");
            headers.put("X-Content-Type-Options", "nosniff");
        }
        headers.put(HttpHeader.CONTENT_LENGTH, Integer.toString(bytes.length));
        Runnable after = afterSent;
        response.write(true, ByteBuffer.wrap(bytes), Callback.from(after == null ? callback::succeeded : () -> {
            callback.succeeded();
            after.run();
        }, x -> {
            // The client went away before its answer: nothing to tell anyone.
            log.debug("{} - writing the answer failed: {}", requestId, x.toString());
            callback.failed(x);
        }));
    }

    /** The request's headers, names in lower case, read from Jetty's field list in one pass. */
    private Map<String, List<String>> headers() {
        Map<String, List<String>> headers = new HashMap<>();
        for (HttpField field : request.getHeaders()) {
            headers.merge(field.getLowerCaseName(), List.of(field.getValue()), ScoringExchange::concat);
        }
        headers.put("x-request-id", List.of(requestId));
        return Collections.unmodifiableMap(headers);
    }

    private static List<String> concat(List<String> first, List<String> more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(more);
        return List.copyOf(all);
    }

    private DeployerException tooLarge() {
        return call.bodyTooLarge();
    }

    private DeployerException noMemory() {
        return DeployerException.unavailable("the server holds as many scoring bodies as it may at once"
                + " (--scoring-memory-mb " + (memory.capacity() >> 20) + "); retry shortly");
    }
}
