package deployer.cell;

import deployer.core.FileTrees;
import deployer.pack.ModelClasses;
import deployer.core.CrashPoints;
import deployer.core.DeployerException;
import deployer.core.Settings;
import deployer.pack.ScriptCompiler;
import deployer.pack.StagedPackage;
import deployer.store.ChangeKind;
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
    private final ConcurrentMap<String, ModelSlot> slots;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CrashPoints crash;
    private final ModelLogs logs;
    /** Told the name of a model once it is deleted (here or through another replica), after its cells went. */
    private final java.util.List<java.util.function.Consumer<String>> deletedListeners;
    private final java.util.function.Consumer<String> forgotten;
    /** Told the name of each model a replica has just followed ({@link #whenFollowed}). */
    private final List<java.util.function.Consumer<String>> followedListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final int keepVersions;
    private final CellObserver observer;
    private final CellFactory factory;
    private final Settings settings;
    private final Path runtimesDir;
    private volatile deployer.cell.process.ProcessCells processCells;
    /** This server as a replica on a shared database ({@link #replicate}); null on the embedded one. */
    private volatile Replication replication;
    private final CellExecutors threads;

    public CellManager(Store store, Path data, Settings settings, CellExecutors threads, ScriptCompiler compiler,
                       PortBinder binder, CellObserver observer) {
        this(store, data, settings, threads, compiler, binder, observer, CrashPoints.none());
    }

    /** @param crash where a crash test halts the process ({@link CrashPoints#none()} but in those tests) */
    public CellManager(Store store, Path data, Settings settings, CellExecutors threads, ScriptCompiler compiler,
                       PortBinder binder, CellObserver observer, CrashPoints crash) {
        this(store, data, settings, CellParts.wire(store, data, settings, threads, compiler, binder, observer, crash),
                binder, observer, crash);
    }

    /**
     * The manager over parts the composition root built ({@link CellParts#wire}) with the same store, data folder,
     * settings, binder, observer and crash points.
     */
    public CellManager(Store store, Path data, Settings settings, CellParts parts, PortBinder binder,
                       CellObserver observer, CrashPoints crash) {
        this.threads = parts.threads;
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
        this.settings = settings;
        this.runtimesDir = data.resolve("runtimes");
        this.slots = parts.slots;
        this.logs = parts.logs;
        this.deletedListeners = parts.deletedListeners;
        this.forgotten = parts.forgotten;
        this.deadlines = parts.deadlines;
        this.unloader = parts.unloader;
        this.factory = parts.factory;
        this.starter = parts.starter;
        this.deleter = parts.deleter;
        this.healthLoop = parts.healthLoop;
        healthLoop.restartWith(this::restartUnhealthy);
    }

    /**
     * Runs the cells of {@code "isolation": "process"} models as child JVMs ({@code deployer.cell.process}), with
     * the JVM of {@code --cell-java} / {@code --cell-jvm-args}; call before {@link #restore}. Without it (a cell
     * alone, which is a process of its own already) such models are served in this JVM.
     */
    public void runProcessCells() {
        deployer.cell.process.ProcessCells children = new deployer.cell.process.ProcessCells(
                settings.cellProcess(), runtimesDir);
        processCells = children;
        factory.processCells(children, this::childDied);
    }

    /**
     * A process cell's child exited unasked (a crash, an OOM, {@code System.exit}, a kill): the serving cell is
     * restarted at once, within the health loop's back-off, while every other model keeps serving. A candidate's
     * child that dies fails its own start instead.
     */
    private void childDied(CellId id, String why) {
        ModelSlot slot = slots.get(id.model());
        Cell cell = slot == null ? null : slot.active();
        if (cell == null || !cell.id().equals(id) || closed.get()) {
            return;
        }
        log.warn("{} - {}", id, why);
        try {
            store.event(id.model(), id.version(), id.deployId(), "process-exited", why);
        } catch (RuntimeException e) {
            log.warn("{} - could not record the exit: {}", id, e.toString());
        }
        cell.recordPing(false);
        healthLoop.lost(slot, cell, why);
    }

    /**
     * A child of a process cell (or any cell alone) serves the server's version N as its own version 1: its model is
     * told N ({@code ModelContext.version()}), as it would be in the server.
     */
    public void presentVersion(int version) {
        starter.presentVersion(version);
    }

    /** The child JVM of the model's serving cell, if it is a process cell. */
    public Optional<deployer.cell.process.ChildInfo> child(String model) {
        ModelSlot slot = slots.get(model);
        Cell cell = slot == null ? null : slot.active();
        return cell == null ? Optional.empty() : deployer.cell.process.ChildInfo.of(cell.model());
    }

    /** The models' own log lines, per model ({@code GET /api/models/{name}/logs}). */
    public ModelLogs logs() {
        return logs;
    }

    /** A recorded upload and the future outcome of its start: the deployment READY or FAILED. */
    public record Accepted(Deployment deployment, CompletableFuture<Deployment> outcome) {
    }

    /** {@code listener} hears of every model deleted from now on (a layer above keeping per-model state). */
    public void whenDeleted(java.util.function.Consumer<String> listener) {
        deletedListeners.add(listener);
    }

    /**
     * Records a received package as the model's next version, moves its files to {@code models/<name>/<id>/} in
     * the same step, and starts its cell in the background. A package without {@code "entry"} that names no model
     * class, or two, is refused first (400), so it never becomes a row ({@link ModelClasses}).
     */
    public Accepted accept(StagedPackage staged) {
        return accept(staged, true);
    }

    /**
     * The same; with {@code activate} false ({@code ?activate=false}) the new version, once READY, serves beside the
     * active one instead of replacing it (DESIGN 1.11): a candidate to pin, name in a traffic split, or activate.
     */
    public Accepted accept(StagedPackage staged, boolean activate) {
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
                List<deployer.store.StoredFile> files = replication == null ? List.of()
                        : replication.storeFiles(staged.directory());
                try {
                    d = store.insertDeployment(name, staged.sha256(), staged.size(), manifestText, files, row -> {
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
                if (replication != null) {
                    // Told now as well as once READY: the other replicas fetch and compile the version while this
                    // one starts it, instead of after (bench row 21), and start their cells once it is READY.
                    replication.decided(ChangeKind.UPLOAD, name);
                }
                // A newer upload does not wait behind an older one still starting (a load() may take an hour): that
                // one is given up, as the newer would replace it anyway.
                for (Deployment older : store.deployments(name)) {
                    if (older.state() == State.STARTING && older.deployId() != d.deployId()) {
                        cancelStart(older, "cancelled: version " + d.version() + " was uploaded after it");
                    }
                }
                return new Accepted(d, decided(ChangeKind.UPLOAD, name, slot.queued("starting version "
                        + d.version(), executor, () -> starter.start(d, folderOf(d), slot, !activate).thenApply(this::pruned))));
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
        return starter.cancelStart(d, why);
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
        return decided(ChangeKind.STOP, model, slot.exclusively("stopping version " + active.version(), executor,
                () -> {
            Cell cell = slot.active();
            if (cell != null && slot.clear(cell)) {
                unloader.unload(cell, DRAIN_MS);
            }
            binder.unbind(slot);
            slot.port(0);
            store.require(active.deployId(), State.READY, State.STOPPED);
            event(active, "stopped", "stopped on request");
            return CompletableFuture.completedFuture(store.deployment(active.deployId()).orElseThrow());
        }));
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
                return decided(ChangeKind.START, model, startAgain(active, "start", "starting on request"));
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
            return decided(ChangeKind.START, model, startAgain(active, "restart", "starting on request"));
        }
        return decided(ChangeKind.RESTART, model, slot.exclusively("restarting version " + active.version(),
                executor, () -> {
                    event(active, "restarting", "a fresh cell of version " + active.version() + " on request");
                    return starter.start(active, folderOf(active), slot);
                }));
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
        return decided(ChangeKind.ACTIVATE, model, slot.exclusively("activating version " + version, executor,
                () -> {
                    require(target, State.STARTING);
                    event(target, "activating", "activating version " + version + " on request");
                    return starter.start(target, folderOf(target), slot);
                }));
    }

    /**
     * Stops every cell of the model and forgets it, all or nothing: its files move to {@code removed/} (kept for
     * the user, never touched again), or with {@code purge} are deleted, in the same step as its rows go. When the
     * files cannot move, nothing changes — the rows stay, the cells keep serving — and the answer names the path.
     * Versions still starting are cancelled first; an upload of the model while it is being deleted is refused. The
     * events stay.
     */
    public CompletableFuture<Void> delete(String model, boolean purge) {
        return decided(ChangeKind.DELETE, model, deleter.delete(existing(model), purge));
    }

    private void require(Deployment d, State to) {
        try {
            store.require(d.deployId(), d.state(), to);
        } catch (StaleState stale) {
            throw DeployerException.conflict(stale.getMessage());
        }
    }

    private void requireFiles(Deployment d) {
        if (replication != null) {
            replication.fetch(d, folderOf(d));
        }
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
        if (replication != null) {
            // The rows are shared: this server's cells follow them (Replication); it never rewrites another
            // server's READY row as it would its own after a restart, nor fails a row for a folder it lacks.
            replication.start();
            healthLoop.start();
            return;
        }
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
        // A READY version that is not the active one served beside it (a traffic split, a candidate): so again.
        Long activeId = store.model(d.model()).map(ModelRecord::activeDeployId).orElse(null);
        boolean beside = d.state() == State.READY && (activeId == null || activeId != d.deployId());
        if (d.state() != State.STARTING) {
            store.require(d.deployId(), d.state(), State.STARTING);
        }
        event(d, "restoring", "starting again after a server restart" + (beside ? ", beside the active version" : ""));
        slot.queued("starting version " + d.version() + " after a server restart", executor,
                () -> starter.start(d, folderOf(d), slot, beside));
    }

    /**
     * Takes a version serving beside the active one out of service (it left a traffic split): RETIRED, its cell
     * drained and closed in the background. The active version, or one not serving beside, is left alone.
     */
    public void retireBeside(String model, int version) {
        ModelSlot slot = slots.get(model);
        Cell cell = slot == null ? null : slot.unstandby(version);
        if (cell == null) {
            return;
        }
        store.transition(cell.id().deployId(), State.READY, State.RETIRED);
        executor.execute(() -> starter.retire(cell, false));
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
                // A replica restarts only its own cell; the shared rows stay as they are.
                return replication != null ? starter.startLocal(d, folderOf(d), slot)
                        : starter.start(d, folderOf(d), slot);
            });
        } catch (DeployerException busy) {
            log.debug("{} - not restarted: {}", slot.name(), busy.getMessage());
        }
    }

    private ModelSlot existing(String model) {
        ModelSlot slot = slots.get(model);
        if (slot == null && replication != null && store.model(model).isPresent()) {
            // A model another replica made, which this one has not served yet.
            slot = slotOf(model);
        }
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

    /**
     * Makes this server one replica of several on a shared database: uploads store their files as blobs, decisions
     * are told to the others, and {@link #restore()} follows the rows instead of restoring them. Before
     * {@link #restore()}.
     */
    public void replicate(deployer.store.Blobs blobs, deployer.pack.LibStore libs, deployer.store.Changes changes) {
        this.replication = new Replication(this, store, blobs, libs, changes);
    }

    private <T> CompletableFuture<T> decided(ChangeKind kind, String model, CompletableFuture<T> decision) {
        Replication r = replication;
        if (r != null) {
            decision.whenComplete((done, failed) -> r.decided(kind, model));
        }
        return decision;
    }

    /** This server's own view of a model it holds a slot for, as a replica reports it. */
    Optional<deployer.store.Replica> localView(String model, String node) {
        ModelSlot slot = slots.get(model);
        if (slot == null) {
            return Optional.empty();
        }
        Cell cell = slot.active();
        String state = cell != null ? State.READY.name() : slot.busy() ? State.STARTING.name() : State.STOPPED.name();
        return Optional.of(new deployer.store.Replica(node, model, cell == null ? null : cell.id().version(), state,
                slot.port() == 0 ? null : slot.port(), cell != null && cell.healthy(),
                cell == null ? null : cell.lastPing(), java.time.Instant.now()));
    }

    /** The models this server holds a slot for. */
    List<String> localModels() {
        return List.copyOf(slots.keySet());
    }

    /**
     * A replica's step for one model: its own cells become what the rows say, and the rows stay as they are — a
     * READY active version gets a cell here (its files fetched first), a stopped or failed one loses it, every other
     * READY version (one a traffic split or shadow names, or a candidate to pin) gets a cell beside it, a version
     * that left serving (RETIRED) loses its cell beside, and a deleted model is forgotten here. {@code fresh}: another
     * server restarted the model, so this one does too. Returns false when the model is busy here (a start or stop
     * under way): the caller looks again shortly.
     */
    boolean follow(String model, boolean fresh) {
        try {
            if (store.model(model).isEmpty()) {
                return forgetLocal(model);
            }
            Deployment active = activeOrNull(model);
            if (active == null) {
                return true;
            }
            ModelSlot slot = slotOf(model);
            if (slot.busy()) {
                return false;
            }
            Cell cell = slot.active();
            boolean same = cell != null && cell.id().deployId() == active.deployId();
            boolean startActive = active.state() == State.READY && (!same || fresh);
            boolean stopActive = active.state() != State.READY && active.state() != State.STARTING && cell != null;
            if (!startActive && !stopActive && besidePlan(model, slot).isEmpty()) {
                return true;
            }
            if (startActive) {
                replication.fetch(active, folderOf(active));
            }
            slot.exclusively("following version " + active.version(), executor, () -> {
                CompletableFuture<?> first = startActive ? starter.startLocal(active, folderOf(active), slot)
                        : stopActive ? stopLocal(slot, active) : CompletableFuture.completedFuture(null);
                return first.thenComposeAsync(done -> followBeside(model, slot), executor);
            });
            return true;
        } catch (DeployerException busy) {
            log.debug("{} - not followed now: {}", model, busy.getMessage());
            return false;
        } catch (RuntimeException e) {
            log.warn("{} - this replica could not follow the model: {}", model, e.getMessage());
            return true;
        }
    }

    /**
     * A replica told of an upload still STARTING on the deciding server: its files are written from the database and
     * its scripts compiled here in the background, so that this replica's own start, once the version is READY, only
     * loads and pings. Only into a folder this replica lacks (the deciding server's own start compiles its own); a
     * start here waits for it ({@link Replication#fetch} and this share one lock).
     */
    void prepare(String model) {
        try {
            for (Deployment d : store.deployments(model)) {
                Path folder = folderOf(d);
                if (d.state() == State.STARTING && !Files.isDirectory(folder)) {
                    executor.execute(() -> {
                        try {
                            replication.prepare(d, folder, factory::compile);
                        } catch (RuntimeException e) {
                            // Its own start says it again, as the version's failure or this replica's.
                            log.debug("{} v{} - not prepared ahead: {}", model, d.version(), e.getMessage());
                        }
                    });
                }
            }
        } catch (RuntimeException e) {
            log.debug("{} - not prepared ahead: {}", model, e.getMessage());
        }
    }

    /** What a replica's cells beside the active one lack (versions to start) or have too many of (to retire). */
    private record BesidePlan(List<Deployment> start, List<Integer> retire) {
        boolean isEmpty() {
            return start.isEmpty() && retire.isEmpty();
        }
    }

    /**
     * Versions beside the active one follow the rows: a READY version that is not the active one serves beside it on
     * the deciding server (DESIGN 1.11: a split's, a shadow's, a candidate), so here too; one that is not READY any
     * more (it left the split: RETIRED) goes. Nothing beside while this replica serves no active version.
     */
    private BesidePlan besidePlan(String model, ModelSlot slot) {
        Cell active = slot.active();
        Long activeId = store.model(model).map(ModelRecord::activeDeployId).orElse(null);
        List<Deployment> start = new ArrayList<>();
        java.util.Set<Long> wanted = new java.util.HashSet<>();
        for (Deployment d : store.deployments(model)) {
            if (d.state() != State.READY || (activeId != null && activeId == d.deployId())) {
                continue;
            }
            wanted.add(d.deployId());
            Cell serving = slot.serving(d.version());
            if (active != null && (serving == null || serving.id().deployId() != d.deployId())) {
                start.add(d);
            }
        }
        List<Integer> retire = new ArrayList<>();
        for (int v : slot.besideVersions()) {
            Cell c = slot.serving(v);
            if (c != null && c != active && !wanted.contains(c.id().deployId())) {
                retire.add(v);
            }
        }
        return new BesidePlan(start, retire);
    }

    /** Starts, one after the other, the versions beside the active one this replica lacks; retires those gone. */
    private CompletableFuture<Void> followBeside(String model, ModelSlot slot) {
        BesidePlan plan = besidePlan(model, slot);
        for (int v : plan.retire()) {
            Cell cell = slot.unstandby(v);
            if (cell != null) {
                store.event(model, v, cell.id().deployId(), "replica-retired", "this replica's cell of version " + v
                        + " stops: the version no longer serves");
                executor.execute(() -> starter.retire(cell, false));
            }
        }
        CompletableFuture<?> chain = CompletableFuture.completedFuture(null);
        for (Deployment d : plan.start()) {
            chain = chain.thenComposeAsync(done -> {
                replication.fetch(d, folderOf(d));
                return starter.startLocalBeside(d, folderOf(d), slot);
            }, executor).exceptionally(failed -> {
                log.warn("{} v{} - this replica could not serve it beside the active version: {}", model,
                        d.version(), CellStarter.reasonOf(failed));
                return null;
            });
        }
        return chain.thenApply(done -> null);
    }

    /** This replica's cell of a version that stopped serving elsewhere stops too; the rows stay as they are. */
    private CompletableFuture<Void> stopLocal(ModelSlot slot, Deployment active) {
        Cell serving = slot.active();
        if (serving != null && slot.clear(serving)) {
            unloader.unload(serving, DRAIN_MS);
        }
        binder.unbind(slot);
        slot.port(0);
        store.event(active.model(), active.version(), active.deployId(), "replica-stopped",
                "this replica's cell stopped: the version is " + active.state());
        return CompletableFuture.completedFuture(null);
    }

    /**
     * {@code listener} hears the name of each model this server, as a replica, has just looked at through the change
     * feed or its sweep ({@link #follow}): a layer above (traffic) reloads what it keeps of the model from the rows.
     */
    public void whenFollowed(java.util.function.Consumer<String> listener) {
        followedListeners.add(listener);
    }

    void followed(String model) {
        for (java.util.function.Consumer<String> listener : followedListeners) {
            try {
                listener.accept(model);
            } catch (deployer.store.StoreException e) {
                log.debug("{} - following it failed: {}", model, e.reason());
            } catch (RuntimeException e) {
                log.warn("{} - following it failed: {}", model, e.toString());
            }
        }
    }

    /**
     * Tells the other replicas of a decision made here by a layer above ({@link ChangeKind#TRAFFIC}); nothing on the
     * embedded database.
     */
    public void decided(ChangeKind kind, String model) {
        Replication r = replication;
        if (r != null) {
            r.decided(kind, model);
        }
    }

    /**
     * A model deleted through another replica: this server's cells of it stop and their folders go. Under the slot's
     * lock, as {@link #accept} numbers an upload under it: a model whose first upload is being recorded here is not
     * taken for deleted.
     */
    private boolean forgetLocal(String model) {
        ModelSlot slot = slots.get(model);
        if (slot == null) {
            return true;
        }
        if (slot.busy()) {
            return false;
        }
        List<Cell> all;
        synchronized (slot) {
            if (slots.get(model) != slot || slot.busy() || store.model(model).isPresent()) {
                return slots.get(model) != slot || store.model(model).isPresent();
            }
            slots.remove(model, slot);
            all = new ArrayList<>(slot.cells());
            Cell active = slot.active();
            if (active != null) {
                slot.clear(active);
                all.add(active);
            }
        }
        binder.unbind(slot);
        slot.port(0);
        forgotten.accept(model);
        for (Cell cell : all.stream().distinct().toList()) {
            executor.execute(() -> unloader.unload(cell, DRAIN_MS));
            deployer.core.FileTrees.delete(modelsDir.resolve(model).resolve(Long.toString(cell.id().deployId())));
        }
        if (!all.isEmpty()) {
            log.info("{} - deleted through another replica; its cells here stop", model);
        }
        return true;
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
        if (replication != null) {
            // Nor follow the others while the ports close.
            replication.close();
        }
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
        if (replication != null) {
            replication.close();
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
        if (processCells != null) {
            processCells.close();
        }
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
