package deployer.http;

import deployer.core.DeployerException;
import deployer.core.Json;
import deployer.pack.Manifest;
import deployer.traffic.PayloadSettings;
import deployer.traffic.Split;
import deployer.traffic.Traffic;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;

/**
 * {@code /api/models/{name}/traffic} ({@code GET|PUT|DELETE}) and {@code /api/models/{name}/payloads} ({@code GET}
 * the records, {@code PUT} the settings) of DESIGN 1.11, for {@link ApiServlet}.
 */
final class TrafficCalls {

    static final int MAX_BODY_BYTES = 64 * 1024;
    static final int DEFAULT_PAYLOADS = 100;
    static final int MAX_PAYLOADS = 10_000;

    private final Traffic traffic;

    TrafficCalls(Traffic traffic) {
        this.traffic = traffic;
    }

    void traffic(String model, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Manifest.checkName(model);
        switch (request.getMethod()) {
            case "GET" -> JsonResponse.send(response, 200, traffic.get(model));
            case "PUT" -> JsonResponse.send(response, 200, traffic.put(model, Split.parse(body(request))));
            case "DELETE" -> JsonResponse.send(response, 200, traffic.clear(model));
            default -> throw new DeployerException(DeployerException.Kind.METHOD_NOT_ALLOWED,
                    "/api/models/{name}/traffic takes GET, PUT or DELETE, not " + request.getMethod());
        }
    }

    void payloads(String model, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Manifest.checkName(model);
        switch (request.getMethod()) {
            case "GET" -> {
                String limit = ApiServlet.queryParam(request, "limit");
                int n = DEFAULT_PAYLOADS;
                if (limit != null && !limit.isBlank()) {
                    try {
                        n = Integer.parseInt(limit.trim());
                    } catch (NumberFormatException e) {
                        n = -1;
                    }
                    if (n < 1 || n > MAX_PAYLOADS) {
                        throw DeployerException.badRequest("?limit= must be a whole number from 1 to " + MAX_PAYLOADS
                                + ", not " + Json.writeString(limit));
                    }
                }
                JsonResponse.send(response, 200, traffic.payloads(model, n));
            }
            case "PUT" -> JsonResponse.send(response, 200, traffic.putPayloads(model,
                    PayloadSettings.parse(body(request), "")));
            default -> throw new DeployerException(DeployerException.Kind.METHOD_NOT_ALLOWED,
                    "/api/models/{name}/payloads takes GET or PUT, not " + request.getMethod());
        }
    }

    private static Object body(HttpServletRequest request) throws IOException {
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (body.length > MAX_BODY_BYTES) {
            throw DeployerException.tooLarge("the body is over " + (MAX_BODY_BYTES >> 10) + " KiB");
        }
        try {
            return Json.parse(body);
        } catch (IOException e) {
            throw DeployerException.badRequest("the body must be JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                    ? j.getOriginalMessage() : e.getMessage()));
        }
    }
}
