package deployer.http;

import deployer.core.DeployerException;
import jakarta.servlet.http.HttpServletResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@code DELETE /api/models/{name}/versions/{v}}: 204 once the version's row and folder are gone. */
final class VersionDelete {

    static final int WAIT_SECONDS = 60;

    private VersionDelete() {
    }

    static void run(CompletableFuture<Void> done, HttpServletResponse response) throws java.io.IOException {
        try {
            done.get(WAIT_SECONDS, TimeUnit.SECONDS);
            response.setStatus(204);
        } catch (TimeoutException e) {
            JsonResponse.send(response, 202, java.util.Map.of("state", "in progress"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw DeployerException.unavailable("the server is stopping");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof DeployerException known) {
                throw known;
            }
            throw new IllegalStateException("deleting a version failed", cause);
        }
    }
}
