package deployer.cell;

import deployer.core.FileTrees;
import deployer.core.DeployerException;
import deployer.store.Deployment;
import deployer.store.State;
import deployer.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deleting a model, all or nothing: its files move to {@code removed/} (kept for the user, never touched again) —
 * or, with purge, aside into {@code staging/} and then away — in the same transaction as its rows go. When the
 * files cannot move, nothing changes: the rows stay, the cells keep serving, and the 409 names the path. Versions
 * still starting are cancelled first, and from the delete's mark on an upload of the model is refused.
 */
final class Deleter {

    /** Told each deleted model, once its slot is gone: its metrics series and log lines may go too. */
    private final java.util.function.Consumer<String> forgotten;

    private static final Logger log = LoggerFactory.getLogger(Deleter.class);
    private static final long DRAIN_MS = CellManager.DRAIN_MS;

    private final Store store;
    private final CellStarter starter;
    private final Unloader unloader;
    private final PortBinder binder;
    private final Executor executor;
    private final ConcurrentMap<String, ModelSlot> slots;
    private final BiConsumer<Deployment, String> cancel;
    private final Path modelsDir;
    private final Path removedDir;
    private final Path stagingDir;

    /** @param cancel gives up a STARTING version ({@code CellManager}'s cancel: the row, then the signal) */
    Deleter(Store store, CellStarter starter, Unloader unloader, PortBinder binder, Executor executor,
            ConcurrentMap<String, ModelSlot> slots, BiConsumer<Deployment, String> cancel, Path data,
            java.util.function.Consumer<String> forgotten) {
        this.forgotten = forgotten;
        this.store = store;
        this.starter = starter;
        this.unloader = unloader;
        this.binder = binder;
        this.executor = executor;
        this.slots = slots;
        this.cancel = cancel;
        this.modelsDir = data.resolve("models");
        this.removedDir = data.resolve("removed");
        this.stagingDir = data.resolve("staging");
    }

    CompletableFuture<Void> delete(ModelSlot slot, boolean purge) {
        String model = slot.name();
        Path folder = modelsDir.resolve(model);
        String stamp = Long.toString(System.currentTimeMillis());
        Path target = purge ? stagingDir.resolve("purge-" + model + "." + stamp)
                : removedDir.resolve(model + "." + stamp);
        // Where the files go is checked before anything changes, so the common failure changes nothing at all.
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw DeployerException.conflict("cannot delete model " + model + ": its files cannot be moved to "
                    + target.getParent() + " (" + e.getMessage() + "); nothing was changed, the model still serves."
                    + " Make " + target.getParent() + " a writable folder, or delete with ?purge=true");
        }
        synchronized (slot) {
            if (!store.markDeleting(model)) {
                throw DeployerException.conflict("model " + model + " is already being deleted");
            }
        }
        for (Deployment d : store.deployments(model)) {
            if (d.state() == State.STARTING) {
                cancel.accept(d, "cancelled");
            }
        }
        starter.cancelAny(model, "cancelled: the model is being deleted");
        CompletableFuture<Void> deleted = slot.queued("being deleted", executor, () -> {
            List<Long> ids;
            // Held until the port is unbound: an upload of the same name waits here, then records a new model in a
            // new slot, instead of binding its port while this one's is still open (both named by the model).
            synchronized (slot) {
                try {
                    ids = store.deleteModel(model, () -> {
                        if (Files.isDirectory(folder)) {
                            moveInto(folder, target);
                        }
                    });
                } catch (RuntimeException e) {
                    unmarkQuietly(model);
                    if (e instanceof UncheckedIOException io) {
                        throw DeployerException.conflict("cannot delete model " + model + ": " + io.getMessage()
                                + "; nothing was changed, the model still serves");
                    }
                    throw e;
                }
                List<Cell> cells = new ArrayList<>(slot.cells());
                Cell active = slot.active();
                if (active != null) {
                    slot.clear(active);
                    cells.add(active);
                }
                cells.stream().distinct().forEach(cell -> unloader.unload(cell, DRAIN_MS));
                binder.unbind(slot);
                slot.port(0);
                slots.remove(model, slot);
                forgotten.accept(model);
            }
            String where;
            if (!Files.isDirectory(target)) {
                where = "it had no files";
            } else if (purge) {
                deleteQuietly(target);
                where = "its files were deleted";
            } else {
                where = "its files were kept in " + target;
            }
            store.event(model, null, null, "deleted", "model deleted on request with deploy_ids " + ids + "; "
                    + where);
            log.info("{} - deleted; {}", model, where);
            return CompletableFuture.completedFuture(null);
        });
        return deleted;
    }

    private void unmarkQuietly(String model) {
        try {
            store.unmarkDeleting(model);
        } catch (RuntimeException e) {
            log.warn("{} - could not take back its delete mark: {}", model, e.getMessage());
        }
    }

    private static void moveInto(Path source, Path target) {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("could not move " + source + " to " + target + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path root) {
        FileTrees.deleteQuietly(root);
    }
}
