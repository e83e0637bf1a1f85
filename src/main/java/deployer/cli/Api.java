package deployer.cli;

import deployer.core.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The management API (DESIGN 1.2) and the gateway's predict, as a client sees them. Every failure becomes one
 * {@link CliFailure} whose message names the server and where its address or token came from.
 */
final class Api {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Lifecycle calls wait on the server up to 60 s by default; a little more here. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(90);

    private final Target target;
    private final HttpClient http;

    /** Where the CA came from that the client trusts besides the JDK's, for error messages; null when none. */
    private final String caSource;

    Api(Target target) {
        this(target, null, null);
    }

    /**
     * @param ca a PEM file of the certificates (a private CA's, or a self-signed server's) to trust besides the
     *           JDK's own; null for the JDK's only
     * @param caSource where {@code ca} came from ({@code --tls-ca}, {@code DEPLOYER_TLS_CA})
     */
    Api(Target target, java.nio.file.Path ca, String caSource) {
        this.target = target;
        this.caSource = ca == null ? null : caSource + " " + ca;
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT);
        if (ca != null) {
            builder.sslContext(TrustedCa.context(ca, caSource));
        }
        this.http = builder.build();
    }

    Target target() {
        return target;
    }

    /**
     * Checks address and token with one cheap authorized call, so that a command about to do something long (pack
     * and upload 89 MiB) fails first when the server is not there or refuses the token.
     *
     * @throws CliFailure as {@link Response#orFail()} does
     */
    void check() {
        Response reply = get("/api/events?limit=1").orFail();
        reply.list();
    }

    Response get(String path) {
        return send(authorized(path).GET().timeout(CALL_TIMEOUT));
    }

    Response post(String path) {
        return send(authorized(path).POST(HttpRequest.BodyPublishers.noBody()).timeout(CALL_TIMEOUT));
    }

    /** A POST with a JSON body. */
    Response post(String path, Object json) {
        return send(authorized(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.writeString(json))).timeout(CALL_TIMEOUT));
    }

    /** Posts a JSON body (a small one: the call has the usual timeout). */
    Response post(String path, String json) {
        return send(authorized(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).timeout(CALL_TIMEOUT));
    }

    /** A PUT with a JSON body. */
    Response put(String path, Object json) {
        return send(authorized(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(Json.writeString(json))).timeout(CALL_TIMEOUT));
    }

    Response delete(String path) {
        return send(authorized(path).DELETE().timeout(CALL_TIMEOUT));
    }

    /**
     * {@code GET path} with the body streamed into {@code file}; a failure's body is read as the error it is.
     *
     * @return the reply, whose body is empty on success
     */
    Response download(String path, java.nio.file.Path file) {
        try {
            HttpResponse<java.io.InputStream> response = sendStreaming(authorized(path).GET().timeout(CALL_TIMEOUT));
            try (java.io.InputStream in = response.body()) {
                String type = response.headers().firstValue("Content-Type").orElse("");
                if (response.statusCode() != 200) {
                    return new Response(response.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8),
                            type, target);
                }
                java.nio.file.Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                return new Response(200, "", type, target);
            }
        } catch (IOException e) {
            throw CliFailure.connection("lost the connection to " + target.server() + " while downloading "
                    + path + ": " + e.getMessage(), e);
        }
    }

    private HttpResponse<java.io.InputStream> sendStreaming(HttpRequest.Builder request) {
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw CliFailure.connection("cannot reach " + target.server() + " (from " + target.serverSource()
                    + "): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliFailure.connection("interrupted while calling " + target.server(), e);
        }
    }

    /** Posts a streamed multipart body; no timeout, an upload takes as long as it takes. */
    Response upload(String path, Upload body) {
        return send(authorized(path).header("Content-Type", body.contentType()).POST(body.publisher()));
    }

    /** {@code POST /models/{name}/predict} through the main port, as the model's clients call it (no token). */
    Response predict(String name, byte[] body) {
        return send(HttpRequest.newBuilder(target.resolve("/models/" + name + "/predict"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).timeout(CALL_TIMEOUT));
    }

    private HttpRequest.Builder authorized(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(target.resolve(path));
        if (target.token() != null) {
            builder.header("Authorization", "Bearer " + target.token());
        }
        return builder;
    }

    private Response send(HttpRequest.Builder request) {
        URI server = target.server();
        String from = " (from " + target.serverSource() + ")";
        try {
            HttpResponse<String> response = http.send(request.build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(response.statusCode(), response.body(),
                    response.headers().firstValue("Content-Type").orElse(""), target);
        } catch (HttpConnectTimeoutException e) {
            throw CliFailure.connection("cannot connect to " + server + from + ": no answer within "
                    + CONNECT_TIMEOUT.toSeconds() + " s", e);
        } catch (HttpTimeoutException e) {
            throw CliFailure.connection(server + " did not answer in time" + from, e);
        } catch (javax.net.ssl.SSLHandshakeException e) {
            throw CliFailure.connection("the certificate of " + server + from + " is not trusted ("
                    + (e.getMessage() == null ? "handshake failed" : e.getMessage()) + "): "
                    + (caSource == null ? "if it is signed by a private CA or self-signed, pass --tls-ca FILE (or set"
                    + " DEPLOYER_TLS_CA) with that CA's certificate in PEM"
                    : "it is not signed by the CA in " + caSource + ", or does not name " + server.getHost()), e);
        } catch (IOException e) {
            if (causedBy(e, javax.net.ssl.SSLException.class)) {
                throw CliFailure.connection("TLS with " + server + from + " failed: " + e.getMessage()
                        + (server.getScheme().equals("http") ? " (does the server want https://?)" : ""), e);
            }
            if (causedBy(e, UnknownHostException.class) || causedBy(e, UnresolvedAddressException.class)) {
                throw CliFailure.connection("cannot connect to " + server + from + ": unknown host "
                        + server.getHost(), e);
            }
            if (e instanceof ConnectException) {
                throw CliFailure.connection("cannot connect to " + server + from + ": "
                        + (e.getMessage() == null ? "connection refused" : e.getMessage())
                        + "; is the server running?", e);
            }
            throw CliFailure.connection("lost the connection to " + server + from + ": " + e, e);
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage("cannot call " + server + from + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliFailure.connection("interrupted while calling " + server, e);
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** One answer of the server: its status and body, read as JSON on demand. */
    record Response(int status, String body, String contentType, Target target) {

        boolean ok() {
            return status >= 200 && status < 300;
        }

        /** This reply when it is a success; otherwise the server's error as a {@link CliFailure}. */
        Response orFail() {
            if (ok()) {
                return this;
            }
            String error = error();
            if (status == 401) {
                if (target.token() == null) {
                    throw CliFailure.failed("the server at " + target.server() + " wants an admin token, and there"
                            + " is none (" + target.tokenSource() + ")");
                }
                throw CliFailure.failed("the server at " + target.server() + " refused the token (from "
                        + target.tokenSource() + "): " + error);
            }
            throw CliFailure.failed(error + " (HTTP " + status + ")");
        }

        /** The {@code error} of a JSON error body, else the body's first line. */
        String error() {
            if (contentType.startsWith("application/json")) {
                try {
                    if (Json.parse(body.getBytes(StandardCharsets.UTF_8)) instanceof Map<?, ?> map
                            && map.get("error") instanceof String message) {
                        return message;
                    }
                } catch (IOException e) {
                    // not JSON after all: described below
                }
            }
            String first = body.isBlank() ? "(no body)" : body.strip().lines().findFirst().orElse("");
            return target.server() + " answered " + status + " with " + (contentType.isEmpty() ? "no type"
                    : contentType) + ", not deployer's JSON (is it a deployer server?): "
                    + (first.length() > 200 ? first.substring(0, 200) + "…" : first);
        }

        Object json() {
            try {
                return Json.parse(body.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw CliFailure.failed(target.server() + " answered " + status + " with something that is not "
                        + "JSON (is it a deployer server?): " + e.getMessage());
            }
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> object() {
            if (json() instanceof Map<?, ?> map) {
                return (Map<String, Object>) map;
            }
            throw CliFailure.failed(target.server() + " answered a JSON " + "value where an object was expected");
        }

        @SuppressWarnings("unchecked")
        List<Object> list() {
            if (json() instanceof List<?> list) {
                return (List<Object>) list;
            }
            throw CliFailure.failed(target.server() + " answered a JSON value where a list was expected");
        }
    }
}
