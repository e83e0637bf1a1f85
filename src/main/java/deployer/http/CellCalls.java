package deployer.http;

import deployer.DeployerException;
import deployer.cell.Answer;
import deployer.cell.CellRequest;
import deployer.cell.ModelSlot;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpField;

/** Scoring and health calls, the same whether they come on a cell's own port or through the main port. */
final class CellCalls {

    /** The largest scoring request body accepted. */
    static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
    /** How long {@code /health} waits for {@code Model.healthy()}. */
    static final long HEALTH_TIMEOUT_MS = 2_000;

    private CellCalls() {
    }

    static void predict(ModelSlot slot, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        CellRequest cellRequest = read(request);
        response.setHeader("X-Request-Id", cellRequest.headers().get("x-request-id").get(0));
        Answer answer = slot.predict(cellRequest);
        response.setStatus(answer.status());
        response.setContentType(answer.contentType());
        response.setContentLength(answer.body().length);
        response.getOutputStream().write(answer.body());
    }

    /**
     * {@link #predict} without making this thread wait for another: the model's code runs on this thread when the
     * server lends it to the cell ({@code ThreadLoan}), and the answer is written here; else the request goes to the
     * cell's worker and this thread goes back to Jetty's pool, and a small answer is written by the worker that
     * produced it (after the model's code has returned: it fits the socket's buffer, so the write does not wait on
     * the client). A large one, a failure and a deadline's 504 are written on a Jetty thread; the 504 comes at the
     * deadline even while the model's code still holds this thread. Where the servlet chain does not support async,
     * it falls back to {@link #predict}.
     */
    static void predictAsync(ModelSlot slot, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        if (!request.isAsyncSupported()) {
            predict(slot, request, response);
            return;
        }
        CellRequest cellRequest = read(request);
        response.setHeader("X-Request-Id", cellRequest.headers().get("x-request-id").get(0));
        AsyncContext async = request.startAsync();
        // The cell keeps the deadline (limits.timeout_ms); Jetty's own would answer without freeing the worker.
        async.setTimeout(0);
        Thread receiving = Thread.currentThread();
        AtomicBoolean scoring = new AtomicBoolean(true);
        try {
            slot.predict(cellRequest, (done, failure) -> {
                // On this thread (lent to the cell, now back) or the worker: a small answer is written here. A
                // failure, a large answer, and a deadline's 504 are written by a Jetty thread.
                if (failure == null && (done.body().length <= INLINE_WRITE_BYTES
                        || Thread.currentThread() == receiving)) {
                    complete(async, response, done, null);
                    return;
                }
                if (Thread.currentThread() != receiving && scoring.get()) {
                    // The deadline passed while the model's code still holds the thread that received the request:
                    // this connection cannot read its next request until that code returns, so the client is told
                    // not to send one on it.
                    response.setHeader("Connection", "close");
                }
                async.start(() -> complete(async, response, done, failure));
            });
        } catch (RuntimeException e) {
            complete(async, response, null, e);
        } finally {
            scoring.set(false);
        }
    }

    /** Answers up to this size are written by the worker that produced them. */
    static final int INLINE_WRITE_BYTES = 16 * 1024;

    private static void complete(AsyncContext async, HttpServletResponse response, Answer answer, Throwable failure) {
        try {
            if (failure != null) {
                Errors.send(response, failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
            } else {
                response.setStatus(answer.status());
                response.setContentType(answer.contentType());
                response.setContentLength(answer.body().length);
                response.getOutputStream().write(answer.body());
            }
        } catch (IOException | RuntimeException e) {
            // The client went away; nothing to answer.
        } finally {
            async.complete();
        }
    }

    static void health(ModelSlot slot, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        Long cell = null;
        String header = request.getHeader(ModelSlot.CELL_HEADER);
        if (header != null) {
            try {
                cell = Long.parseLong(header.trim());
            } catch (NumberFormatException e) {
                throw DeployerException.badRequest(ModelSlot.CELL_HEADER + " must be a deploy_id, not " + header);
            }
        }
        Map<String, Object> health = slot.health(cell, HEALTH_TIMEOUT_MS);
        Errors.write(response, "UP".equals(health.get("status")) ? 200 : 503, health);
    }

    private static CellRequest read(HttpServletRequest request) throws IOException {
        long declared = request.getContentLengthLong();
        if (declared > MAX_BODY_BYTES) {
            throw tooLarge();
        }
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            // With a Content-Length, one array of the right size (Jetty holds the body to it); without, read in
            // chunks up to the limit. readNBytes(64 MiB) for a 40-byte body cost 8 KiB of buffers and a copy.
            body = declared >= 0 ? in.readNBytes((int) declared) : in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (body.length > MAX_BODY_BYTES) {
            throw tooLarge();
        }
        Map<String, List<String>> headers = headers(request);
        // Every scoring request carries an id to the access log and back to the client: the client's, or ours.
        headers.computeIfAbsent("x-request-id", k -> List.of(nextRequestId()));
        return new CellRequest(request.getContentType(), body, Collections.unmodifiableMap(headers));
    }

    /**
     * The request's headers, names in lower case. Read from Jetty's own field list in one pass when the request is
     * Jetty's (the servlet API's names-then-values walk scans the fields once per name, and was 4% of a request).
     */
    private static Map<String, List<String>> headers(HttpServletRequest request) {
        Map<String, List<String>> headers = new HashMap<>();
        ServletContextRequest jetty = ServletContextRequest.getServletContextRequest(request);
        if (jetty != null) {
            for (HttpField field : jetty.getHeaders()) {
                headers.merge(field.getLowerCaseName(), List.of(field.getValue()), CellCalls::concat);
            }
            return headers;
        }
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name.toLowerCase(Locale.ROOT), List.copyOf(Collections.list(request.getHeaders(name))));
        }
        return headers;
    }

    private static List<String> concat(List<String> first, List<String> more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(more);
        return List.copyOf(all);
    }

    /** 64 random bits: unique enough to find one request in a log, and no shared counter on the hot path. */
    private static String nextRequestId() {
        return Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
    }

    private static DeployerException tooLarge() {
        return DeployerException.tooLarge("the request body is over " + (MAX_BODY_BYTES >> 20)
                + " MiB; send smaller batches");
    }
}
