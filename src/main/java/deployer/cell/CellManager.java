package deployer.cell;

import deployer.core.FileTrees;
import deployer.pack.ModelClasses;
import deployer.core.CrashPoints;
import deployer.core.DeployerException;
import deployer.core.Settings;
import deployer.pack.ScriptCompiler;
import deployer.pack.StagedPackage;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.StaleState;
import deployer.store.State;
import deployer.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models' lifecycle: deploy, stop, start, restart, activate, delete, and bringing everything back after a
 * server restart. Operations on one model run one after the other; a user's operation that makes no sense now
 * (starting what is starting) is refused with a 409.
 */
public final class CellManager implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CellManager.class);
    static final long DRAIN_MS = 30_000;
    static final long UNLOAD_WAIT_MS = 10_000;
    /** At a stop, how long starts under way get to give up before their threads are interrupted. */
    static final long STOP_STARTS_WAIT_MS = 5_000;

    private final Store store;
    private final Path modelsDir;
    private final Path removedDir;
    private final Path dbDir;
    private final PortBinder binder;
    private final ExecutorService executor;
    private final ScheduledExecutorService scheduler;
    private final Deadlines deadlines;
    private final Unloader unloader;
    private final CellStarter starter;
    private final HealthLoop healthLoop;
    private final Deleter deleter;
    private final ConcurrentMap<String, ModelSlot> slots = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CrashPoints crash;
    private final ModelLogs logs = new ModelLogs();
    private final int keepVersions;
    private final CellObserver observer;
    private final CellExecutors threads;

    public CellManager(Store store, Path data, Settings settings, CellExecutors threads, ScriptCompiler compiler,
                       PortBinder binder, CellObserver observer) {
        this(store, data, settings, threads, compiler, binder, observer, CrashPoints.none());
    }

    /** @param crash where a crash test halts the process ({@link CrashPoints#none()} but in those tests) */
    public CellManager(Store store, Path data, Settings settings, CellExecutors threads, ScriptCompiler compiler,
                       PortBinder binder, CellObserver observer, CrashPoints crash) {
        this.threads = threads;
        this.crash = crash;
        this.keepVersions = settings.keepVersions();
        this.observer = observer;
        this.store = store;
        this.modelsDir = data.resolve("models");
        this.removedDir = data.resolve("removed");
        this.dbDir = data.resolve("db");
        this.binder = binder;
        this.executor = threads.cells;
        this.scheduler = threads.scheduler;
        String host = settings.cellHost();
        String pingHost = host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") ? "127.0.0.1" : host;
        Pinger pinger = new Pinger(scheduler, executor, binder.pingTls().orElse(null));
        this.deadlines = new Deadlines(scheduler);
        this.unloader = new Unloader(store, scheduler, UNLOAD_WAIT_MS);
        this.starter = new CellStarter(store, new CellFactory(compiler, observer, deadlines,
                new deployer.runtime.Runtimes(data.resolve("runtimes"))), binder, settings.cellPorts(),
                pingHost, pinger, unloader, executor, DRAIN_MS, observer, crash, logs);
        this.deleter = new Deleter(store, starter, unloader, binder, executor, slots, this::cancelStart, data,
                model -> {
                    observer.modelDeleted(model);
                    logs.forget(model);
                });
        this.healthLoop = new HealthLoop(slots::values, pinger, pingHost, settings.pingIntervalMs(),
                settings.pingFailures(), this::restartUnhealthy, scheduler, store, observer);
    }

    /** The models' own log lines, per model ({@code GET /api/models/{name}/logs}). */
    public ModelLogs logs() {
        return logs;
    }

    /** A recorded upload and the future outcome of its start: the deployment READY or FAILED. */
    public record Accepted(Deployment deployment, CompletableFuture<Deployment> outcome) {
    }

    /**
     * Records a received package as the model's next version, moves its files to {@code models/<name>/<id>/} in
     * the same step, and starts its cell in the background. A package without {@code "entry"} that names no model
     * class, or two, is refused first (400), so it never becomes a row ({@link ModelClasses}).
     */
    public Accepted accept(StagedPackage staged) {
        if (staged.manifest().runtime() != null) {
            deployer.runtime.Runtimes.checkPackage(staged.directory(), staged.manifest());
        } else {
            ModelClasses.check(staged.directory(), staged.manifest());
        }
        String manifestText = readManifest(staged.directory());
        String name = staged.manifest().name();
        while (true) {
            ModelSlot slot = slotOf(name);
            // Numbering a version and queueing its start is one step per model: two uploads at once are started in
            // the order of their versions, so the newest upload is the one that ends up active. A delete takes the
            // same lock to remove the slot, so an upload never lands in the slot of a model deleted under it.
            synchronized (slot) {
                if (slots.get(name) != slot) {
                    continue;
                }
                AtomicReference<Path> moved = new AtomicReference<>();
                Deployment d;
                try {
                    d = store.insertDeployment(name, staged.sha256(), staged.size(), manifestText, row -> {
                        crash.reach(CrashPoints.AFTER_INSERT, row.version());
                        moved.set(moveInto(staged.directory(), folderOf(row)));
                        crash.reach(CrashPoints.AFTER_MOVE, row.version());
                    });
                } catch (StaleState deleting) {
                    throw DeployerException.conflict(deleting.getMessage());
                } catch (RuntimeException e) {
                    // The row was rolled back: take the folder back out too, so neither exists without the other.
                    if (moved.get() != null) {
                        deleteQuietly(moved.get());
                    }
                    throw e;
                }
                crash.reach(CrashPoints.AFTER_COMMIT, d.version());
                event(d, "received", "package of " + staged.size() + " bytes, sha256 " + staged.sha256());
                event(d, "stored", "files in " + folderOf(d));
                // A newer upload does not wait behind an older one still starting (a load() may take an hour): that
                // one is given up, as the newer would replace it anyway.
                for (Deployment older : store.deployments(name)) {
                    if (older.state() == State.STARTING && older.deployId() != d.deployId()) {
                        cancelStart(older, "cancelled: version " + d.version() + " was uploaded after it");
                    }
                }
                return new Accepted(d, slot.queued("starting version " + d.version(), executor,
                        () -> starter.start(d, folderOf(d), slot).thenApply(this::pruned)));
            }
        }
    }

    /**
     * Gives up a STARTING version: its compile or {@code load()} is interrupted, and it is FAILED with the error
     * {@code "cancelled"} (DESIGN 1.2). A version restored STARTING after a restart is cancelled the same way.
     */
    public Deployment cancel(long deployId) {
        Deployment d = store.deployment(deployId).orElseThrow(() -> DeployerException.notFound(
                "no deployment " + deployId));
        if (d.state() != State.STARTING) {
            throw DeployerException.conflict("deployment " + deployId + " (version " + d.version() + " of "
                    + d.model() + ") is " + d.state() + ", not STARTING: only a starting version can be cancelled");
        }
        if (!cancelStart(d, "cancelled")) {
            throw DeployerException.conflict(d.model() + " version " + d.version() + " stopped starting before the"
                    + " cancel: it is " + store.deployment(deployId).map(x -> x.state().name()).orElse("gone"));
        }
        return store.deployment(deployId).orElseThrow();
    }

    /** The row first (compare-and-set STARTING to FAILED), then the signal to the start under way, if any. */
    private boolean cancelStart(Deployment d, String why) {
        if (!store.fail(d.deployId(), State.STARTING, d.attempts(), why)) {
            return false;
        }
        event(d, "cancelled", why);
        starter.cancel(d.model(), d.deployId(), why);
        return true;
    }

    /** Cancels every STARTING version of a model whose active version does not serve; returns what was cancelled. */
    private List<Deployment> cancelWhileNothingServes(String model) {
        List<Deployment> cancelled = new ArrayList<>();
        for (Deployment d : store.deployments(model)) {
            if (d.state() == State.STARTING && cancelStart(d, "cancelled")) {
                cancelled.add(store.deployment(d.deployId()).orElse(d));
            }
        }
        return cancelled;
    }

    /**
     * Stops the serving cell after its requests drain; the model's port stops answering. A model with nothing READY
     * and a version starting has that start cancelled instead.
     */
    public CompletableFuture<Deployment> stop(String model) {
        ModelSlot slot = existing(model);
        Deployment active = activeOrNull(model);
        if (active == null || active.state() != State.READY) {
            List<Deployment> cancelled = cancelWhileNothingServes(model);
            if (!cancelled.isEmpty()) {
                return CompletableFuture.completedFuture(cancelled.get(0));
            }
        }
        if (active == null) {
            throw noActive(model);
        }
        if (active.state() != State.READY) {
            throw DeployerException.conflict("model " + model + " is " + active.state() + ", not READY: nothing"
                    + " to stop");
        }
        return slot.exclusively("stopping version " + active.version(), executor, () -> {
            Cell cell = slot.active();
            if (cell != null && slot.clear(cell)) {
                unloader.unload(cell, DRAIN_MS);
            }
            binder.unbind(slot);
            slot.port(0);
            store.require(active.deployId(), State.READY, State.STOPPED);
            event(active, "stopped", "stopped on request");
            return CompletableFuture.completedFuture(store.deployment(active.deployId()).orElseThrow());
        });
    }

    /** Starts the active version of a stopped model (or one whose last start failed). */
    public CompletableFuture<Deployment> start(String model) {
        existing(model);
        Deployment active = active(model);
        switch (active.state()) {
            case READY -> throw DeployerException.conflict("model " + model + " is already READY (version "
                    + active.version() + "); use restart for a fresh cell");
            case STARTING -> throw DeployerException.conflict("model " + model + " is already starting");
            default -> {
                requireFiles(active);
                return startAgain(active, "start", "starting on request");
            }
        }
    }

    /**
     * A fresh cell of the active version, swapped in once it answers: the old one serves until then, so a restart
     * drops no request. A stopped model is simply started.
     */
    public CompletableFuture<Deployment> restart(String model) {
        ModelSlot slot = existing(model);
        Deployment active = active(model);
        if (active.state() == State.STARTING) {
            throw DeployerException.conflict("model " + model + " is starting; wait for it to be READY or FAILED");
        }
        requireFiles(active);
        if (active.state() != State.READY) {
            return startAgain(active, "restart", "starting on request");
        }
        return slot.exclusively("restarting version " + active.version(), executor, () -> {
            event(active, "restarting", "a fresh cell of version " + active.version() + " on request");
            return starter.start(active, folderOf(active), slot);
        });
    }

    /** Makes an uploaded version the active one (roll back or forward): a hot swap, as for a new upload. */
    public CompletableFuture<Deployment> activate(String model, int version) {
        ModelSlot slot = existing(model);
        Deployment target = store.deployments(model).stream().filter(d -> d.version() == version).findFirst()
                .orElseThrow(() -> DeployerException.notFound("model " + model + " has no version " + version));
        ModelRecord record = store.model(model).orElseThrow();
        boolean isActive = record.activeDeployId() != null && record.activeDeployId() == target.deployId();
        if (isActive && target.state() == State.READY) {
            throw DeployerException.conflict("version " + version + " of " + model + " is already active");
        }
        if (target.state() == State.STARTING) {
            throw DeployerException.conflict("version " + version + " of " + model + " is already starting");
        }
        requireFiles(target);
        return slot.exclusively("activating version " + version, executor, () -> {
            require(target, State.STARTING);
            event(target, "activating", "activating version " + version + " on request");
            return starter.start(target, folderOf(target), slot);
        });
    }

    /**
     * Stops every cell of the model and forgets it, all or nothing: its files move to {@code removed/} (kept for
     * the user, never touched again), or with {@code purge} are deleted, in the same step as its rows go. When the
     * files cannot move, nothing changes — the rows stay, the cells keep serving — and the answer names the path.
     * Versions still starting are cancelled first; an upload of the model while it is being deleted is refused. The
     * events stay.
     */
    public CompletableFuture<Void> delete(String model, boolean purge) {
        return deleter.delete(existing(model), purge);
    }

    private void require(Deployment d, State to) {
        try {
            store.require(d.deployId(), d.state(), to);
        } catch (StaleState stale) {
            throw DeployerException.conflict(stale.getMessage());
        }
    }

    private void requireFiles(Deployment d) {
        if (!Files.isDirectory(folderOf(d))) {
            throw DeployerException.conflict("the files of version " + d.version() + " of " + d.model()
                    + " are gone (" + folderOf(d) + "); upload it again");
        }
    }

    /**
     * Deletes one version that does not serve (FAILED, STOPPED but not active, RETIRED): its row and its folder,
     * with an event; 409 for the active version or one that is STARTING or READY, 404 for a version that is not
     * there.
     */
    public CompletableFuture<Void> deleteVersion(String model, int version) {
        ModelSlot slot = existing(model);
        Deployment d = deletable(model, version);
        return slot.exclusively("deleting version " + version, executor, () -> {
            deletable(model, version);
            if (!store.deleteVersion(model, version, "version " + version + " deleted on request; its files were"
                    + " deleted")) {
                throw DeployerException.conflict("version " + version + " of " + model + " changed meanwhile; look"
                        + " again and retry");
            }
            deleteQuietly(folderOf(d));
            observer.versionDeleted(model, version);
            return CompletableFuture.completedFuture(null);
        });
    }

    /**
     * With {@code --keep-versions N}, after a deploy: deletes the model's versions older than its newest N that do
     * not serve, rows and folders (a serving one is kept whatever its age). Answers {@code outcome} unchanged.
     */
    private Deployment pruned(Deployment outcome) {
        int keep = keepVersions;
        if (keep <= 0) {
            return outcome;
        }
        try {
            List<Deployment> versions = store.deployments(outcome.model());
            Long active = store.model(outcome.model()).map(ModelRecord::activeDeployId).orElse(null);
            for (Deployment d : versions.subList(Math.min(keep, versions.size()), versions.size())) {
                boolean serving = (active != null && active == d.deployId()) || d.state() == State.STARTING
                        || d.state() == State.READY;
                if (!serving && store.deleteVersion(d.model(), d.version(), "version " + d.version()
                        + " pruned: --keep-versions " + keep + " keeps the newest " + keep)) {
                    deleteQuietly(folderOf(d));
                    observer.versionDeleted(d.model(), d.version());
                }
            }
        } catch (RuntimeException e) {
            log.warn("{} - pruning old versions failed: {}", outcome.model(), e.toString());
        }
        return outcome;
    }

    private Deployment deletable(String model, int version) {
        Deployment d = store.deployments(model).stream().filter(x -> x.version() == version).findFirst()
                .orElseThrow(() -> DeployerException.notFound("model " + model + " has no version " + version));
        Long active = store.model(model).map(ModelRecord::activeDeployId).orElse(null);
        if (active != null && active == d.deployId()) {
            throw DeployerException.conflict("version " + version + " is the active version of " + model
                    + "; activate another version first, or undeploy the model");
        }
        if (d.state() == State.STARTING || d.state() == State.READY) {
            throw DeployerException.conflict("version " + version + " of " + model + " is " + d.state()
                    + ": only a version that does not serve can be deleted");
        }
        return d;
    }

    /** What the health loop last saw of the model's serving cell. */
    public Optional<CellStatus> status(String model) {
        ModelSlot slot = slots.get(model);
        Cell cell = slot == null ? null : slot.active();
        return cell == null ? Optional.empty()
                : Optional.of(new CellStatus(cell.id().deployId(), cell.healthy(), cell.lastPing()));
    }

    /**
     * Every model now: its active (or newest) version, state, health and requests in flight. While the database
     * fails, what the cells themselves know (a model serving is READY), so {@code /metrics} still answers.
     */
    public List<ModelSnapshot> snapshot() {
        try {
            return recordedSnapshot();
        } catch (deployer.store.StoreException e) {
            List<ModelSnapshot> models = new ArrayList<>();
            for (ModelSlot slot : slots.values()) {
                Cell cell = slot.active();
                models.add(new ModelSnapshot(slot.name(), cell == null ? null : cell.id().version(),
                        cell == null ? "UNKNOWN" : State.READY.name(), cell != null && cell.healthy(),
                        slot.inFlight()));
            }
            return models;
        }
    }

    private List<ModelSnapshot> recordedSnapshot() {
        List<ModelSnapshot> models = new ArrayList<>();
        for (ModelRecord record : store.models()) {
            Deployment shown = Store.shown(record, store.deployments(record.name()));
            ModelSlot slot = slots.get(record.name());
            boolean healthy = status(record.name()).map(CellStatus::healthy).orElse(false);
            models.add(new ModelSnapshot(record.name(), shown == null ? null : shown.version(),
                    shown == null ? "NONE" : shown.state().name(),
                    shown != null && shown.state() == State.READY && healthy, slot == null ? 0 : slot.inFlight()));
        }
        return models;
    }

    /** The slot of a model, if the server knows the model. */
    public Optional<ModelSlot> slot(String model) {
        return Optional.ofNullable(slots.get(model));
    }

    /** Class loaders of cells that were unloaded but not yet collected. */
    public int unloadedButReachable() {
        return unloader.stillReachable();
    }

    /**
     * Brings back what was running before the server stopped ({@link Recovery} says what, and puts rows and folders
     * in step first), then starts the health loop.
     */
    public void restore() {
        new Recovery(store, modelsDir, removedDir, starter).reconcile().forEach((model, toStart) -> {
            ModelSlot slot = slotOf(model);
            toStart.forEach(d -> restoreOne(d, slot));
        });
        healthLoop.start();
    }

    /**
     * Refuses to start on model folders beside a database with no record of them (it was lost: restoring would
     * throw the packages away); {@code rebuild} records them again first, STOPPED ({@code serve --rebuild-db}).
     */
    public void checkRecords(boolean rebuild) {
        if (rebuild) {
            Recovery.rebuild(store, modelsDir);
        }
        Recovery.checkRecords(store, modelsDir, dbDir);
    }

    private void restoreOne(Deployment d, ModelSlot slot) {
        if (d.state() != State.STARTING) {
            store.require(d.deployId(), d.state(), State.STARTING);
        }
        event(d, "restoring", "starting again after a server restart");
        slot.queued("starting version " + d.version() + " after a server restart", executor,
                () -> starter.start(d, folderOf(d), slot));
    }

    private CompletableFuture<Deployment> startAgain(Deployment d, String what, String message) {
        ModelSlot slot = existing(d.model());
        return slot.exclusively(what + " of version " + d.version(), executor, () -> {
            require(d, State.STARTING);
            event(d, "starting", message);
            return starter.start(d, folderOf(d), slot);
        });
    }

    /** Called by the health loop: a fresh cell of the serving version, unless the model is busy. */
    private void restartUnhealthy(ModelSlot slot, String why) {
        Cell cell = slot.active();
        if (cell == null) {
            return;
        }
        try {
            Deployment d = store.deployment(cell.id().deployId()).orElseThrow();
            slot.exclusively(why, executor, () -> {
                event(d, "restarting", why);
                return starter.start(d, folderOf(d), slot);
            });
        } catch (DeployerException busy) {
            log.debug("{} - not restarted: {}", slot.name(), busy.getMessage());
        }
    }

    private ModelSlot existing(String model) {
        ModelSlot slot = slots.get(model);
        if (slot == null || store.model(model).isEmpty()) {
            throw DeployerException.notFound("no model named '" + model + "'; GET /api/models lists them");
        }
        return slot;
    }

    /** The model's active version; 409 when it never had one. */
    private Deployment active(String model) {
        Deployment active = activeOrNull(model);
        if (active == null) {
            throw noActive(model);
        }
        return active;
    }

    private Deployment activeOrNull(String model) {
        ModelRecord record = store.model(model).orElseThrow(() -> DeployerException.notFound(
                "no model named '" + model + "'"));
        return record.activeDeployId() == null ? null : store.deployment(record.activeDeployId()).orElse(null);
    }

    private static DeployerException noActive(String model) {
        return DeployerException.conflict("model " + model + " has no active version: none has been READY yet;"
                + " upload one, or activate an uploaded version");
    }

    /** The server's data folder (named in answers about its disk). */
    public Path dataFolder() {
        return modelsDir.getParent();
    }

    public Path folderOf(Deployment d) {
        return Recovery.folderOf(modelsDir, d);
    }

    private ModelSlot slotOf(String model) {
        return slots.computeIfAbsent(model, ModelSlot::new);
    }

    private void event(Deployment d, String kind, String message) {
        store.event(d.model(), d.version(), d.deployId(), kind, message);
    }

    /**
     * Stops the health loop, so a stop does not read closing ports as failed pings; the first step of a clean stop,
     * before the ports close.
     */
    public void stopHealthLoop() {
        healthLoop.close();
    }

    /** The longest {@code limits.timeout_ms} of the cells serving now: how long a request in flight may still run. */
    public long longestRequestMs() {
        long longest = 0;
        for (ModelSlot slot : slots.values()) {
            for (Cell cell : slot.cells()) {
                longest = Math.max(longest, cell.manifest().limits().timeoutMs());
            }
            Cell active = slot.active();
            if (active != null) {
                longest = Math.max(longest, active.manifest().limits().timeoutMs());
            }
        }
        return longest;
    }

    /** Stops the health loop, drains and closes every cell, and stops the background threads. Idempotent. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        healthLoop.close();
        // Starts under way are given up, but their rows stay STARTING: the next start brings them back.
        starter.stopAll(STOP_STARTS_WAIT_MS);
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (ModelSlot slot : slots.values()) {
            for (Cell cell : slot.cells()) {
                closing.add(CompletableFuture.runAsync(() -> cell.close(DRAIN_MS), executor));
            }
            binder.unbind(slot);
        }
        closing.forEach(CompletableFuture::join);
        deadlines.close();
        threads.close();
    }

    private static Path moveInto(Path source, Path target) {
        try {
            Files.createDirectories(target.getParent());
            return Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("could not move " + source + " to " + target + ": " + e.getMessage(), e);
        }
    }

    private static String readManifest(Path directory) {
        try {
            return Files.readString(directory.resolve("deploy.json"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("the staged package lost its deploy.json: " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path root) {
        FileTrees.deleteQuietly(root);
    }
}
