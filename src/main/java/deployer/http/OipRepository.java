package deployer.http;

import deployer.core.DeployerException;
import deployer.cell.CellManager;
import deployer.pack.Manifest;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.State;
import deployer.store.Store;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Open Inference Protocol's model repository extension (Triton's {@code v2/repository}), on the main port only
 * and behind the token (as {@code /api} is): {@code POST /v2/repository/index} lists the models and their state;
 * {@code POST /v2/repository/models/{m}/load} and {@code /unload} are {@code start} and {@code stop} of DESIGN 1.2,
 * answered once the model is READY or stopped, as a protocol client expects.
 */
final class OipRepository {

    /** How long a {@code load} waits for its model to be READY before answering. */
    static final long LOAD_WAIT_SECONDS = 300;

    private final CellManager cells;
    private final Store store;

    OipRepository(CellManager cells, Store store) {
        this.cells = cells;
        this.store = store;
    }

    /**
     * {@code [{"name", "version", "state", "reason"}]}, one per model (its active version), states as Triton names
     * them: READY, LOADING, UNAVAILABLE. {@code {"ready": true}} in the body keeps the READY ones only.
     */
    List<Map<String, Object>> index(boolean readyOnly) {
        List<Map<String, Object>> models = new ArrayList<>();
        for (ModelRecord model : store.models()) {
            Deployment d = model.activeDeployId() == null ? null
                    : store.deployment(model.activeDeployId()).orElse(null);
            if (d == null) {
                List<Deployment> versions = store.deployments(model.name());
                d = versions.isEmpty() ? null : versions.get(0);
            }
            if (d == null) {
                continue;
            }
            String state = switch (d.state()) {
                case READY -> "READY";
                case STARTING -> "LOADING";
                default -> "UNAVAILABLE";
            };
            if (readyOnly && !state.equals("READY")) {
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", model.name());
            entry.put("version", Integer.toString(d.version()));
            entry.put("state", state);
            entry.put("reason", state.equals("UNAVAILABLE") ? d.state().name().toLowerCase(java.util.Locale.ROOT)
                    + (d.error() == null ? "" : ": " + d.error()) : "");
            models.add(entry);
        }
        return models;
    }

    /** Starts the model unless it is READY, and waits for the outcome; a FAILED start is a 400 with its reason. */
    void load(String name) {
        Manifest.checkName(name);
        Deployment active = active(name);
        if (active.state() == State.READY) {
            return;
        }
        Deployment outcome = await(active.state() == State.STARTING ? null : cells.start(name), name);
        if (outcome.state() != State.READY) {
            throw DeployerException.badRequest("model " + name + " did not load: " + outcome.state()
                    + (outcome.error() == null ? "" : " (" + outcome.error() + ")"));
        }
    }

    /** Stops the model unless it is stopped already. */
    void unload(String name) {
        Manifest.checkName(name);
        Deployment active = active(name);
        if (active.state() != State.READY) {
            return;
        }
        await(cells.stop(name), name);
    }

    private Deployment await(CompletableFuture<Deployment> outcome, String name) {
        if (outcome == null) {
            throw DeployerException.conflict("model " + name + " is loading already; ask "
                    + "/v2/models/" + name + "/ready");
        }
        try {
            return outcome.get(LOAD_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw DeployerException.unavailable("model " + name + " is still loading after " + LOAD_WAIT_SECONDS
                    + " s; ask /v2/models/" + name + "/ready");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw DeployerException.unavailable("interrupted while model " + name + " loads");
        } catch (ExecutionException e) {
            throw new IllegalStateException("the lifecycle call on " + name + " failed", e.getCause());
        }
    }

    private Deployment active(String name) {
        ModelRecord model = store.model(name).orElseThrow(() -> DeployerException.notFound("no model named "
                + name));
        if (model.activeDeployId() == null) {
            throw DeployerException.conflict("model " + name + " has no version to load");
        }
        return store.deployment(model.activeDeployId()).orElseThrow(() -> DeployerException.notFound(
                "model " + name + " has no version"));
    }
}
