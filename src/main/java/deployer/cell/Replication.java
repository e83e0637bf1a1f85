package deployer.cell;

import deployer.core.DeployerException;
import deployer.pack.LibStore;
import deployer.store.Blobs;
import deployer.store.Change;
import deployer.store.ChangeFeed;
import deployer.store.ChangeKind;
import deployer.store.Changes;
import deployer.store.Deployment;
import deployer.store.Replica;
import deployer.store.Store;
import deployer.store.StoreException;
import deployer.store.StoredFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This server as one of several replicas on a shared database (DESIGN 1.12). The server that takes a request
 * decides (its rows, its cell, as on one box) and then records a {@link Change}; every replica follows the feed of
 * changes, and every {@link #SWEEP} looks at all models anyway (a change lost with a server that died just after
 * its decision), and makes its own cells what the rows say ({@link CellManager#follow}): its own ports, pings and
 * restarts, the package files it lacks written from the database's blobs into its own data folder.
 *
 * <p>Decisions on one model are serialized by the deciding server's slot and the rows' compare-and-set; following
 * runs on this class's single thread, so a replica never follows one model twice at once. A model busy here when a
 * change comes (a start of the previous change still under way) is looked at again every
 * {@link ChangeFeed#DEFAULT_EVERY} until it is not, rather than at the next sweep.
 *
 * <p>Each replica heart-beats ({@link Store#beat}, every {@link Replica#BEAT}, on a thread of its own so a long
 * fetch does not silence it): a node silent for {@link Replica#GONE_AFTER} is shown GONE by every other, and its
 * rows are pruned after {@link Replica#PRUNE_AFTER}; a node that starts again under the same name drops the rows it
 * left and reports afresh.
 */
final class Replication implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Replication.class);

    /** How often every model is looked at, beside the change feed. */
    static final Duration SWEEP = Duration.ofSeconds(5);

    private final CellManager cells;
    private final Store store;
    private final Blobs blobs;
    private final LibStore libs;
    private final Changes changes;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "deployer-replica");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService heart = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "deployer-heartbeat");
        t.setDaemon(true);
        return t;
    });
    /** Models busy here when last followed, to look at again (value: a fresh restart was asked). */
    private final java.util.Map<String, Boolean> again = new java.util.concurrent.ConcurrentHashMap<>();
    private ChangeFeed feed;

    Replication(CellManager cells, Store store, Blobs blobs, LibStore libs, Changes changes) {
        this.cells = cells;
        this.libs = libs;
        this.store = store;
        this.blobs = blobs;
        this.changes = changes;
    }

    /** Starts following: a first look at every model now, then the feed and the sweep. */
    void start() {
        long after;
        try {
            after = changes.last();
        } catch (StoreException e) {
            after = 0;
        }
        // Starts this node was deciding when it stopped (or was killed) run nowhere now: failed at once.
        failAbandonedStarts(true);
        try {
            // What this node said before it stopped (or was killed) is not what it serves now.
            store.forgetReplica(node());
        } catch (StoreException e) {
            log.debug("could not drop this node's old replica rows ({}); the next report replaces them", e.reason());
        }
        feed = new ChangeFeed(changes, after, this::changed).start(thread, ChangeFeed.DEFAULT_EVERY);
        thread.scheduleWithFixedDelay(this::sweep, 0, SWEEP.toMillis(), TimeUnit.MILLISECONDS);
        thread.scheduleWithFixedDelay(this::retry, ChangeFeed.DEFAULT_EVERY.toMillis(),
                ChangeFeed.DEFAULT_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        heart.scheduleWithFixedDelay(this::beat, 0, Replica.BEAT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void beat() {
        try {
            store.beat(node());
        } catch (StoreException e) {
            log.debug("heartbeat: the database is failing ({})", e.reason());
        } catch (RuntimeException e) {
            log.error("heartbeat failed", e);
        }
    }

    /** One model, as the feed or the sweep asks: its cells, then the layers above, then what this node reports. */
    private void followOne(String model, boolean fresh) {
        if (cells.follow(model, fresh)) {
            again.remove(model);
        } else {
            again.merge(model, fresh, Boolean::logicalOr);
        }
        cells.followed(model);
    }

    /** The models that were busy when last followed, looked at again. */
    private void retry() {
        try {
            for (String model : List.copyOf(again.keySet())) {
                Boolean fresh = again.remove(model);
                if (fresh != null) {
                    followOne(model, fresh);
                    cells.localView(model, node()).ifPresent(store::report);
                }
            }
        } catch (StoreException e) {
            log.debug("replica retry: the database is failing ({})", e.reason());
        } catch (RuntimeException e) {
            log.error("replica retry failed", e);
        }
    }

    String node() {
        return changes.node();
    }

    /** Records a decision made through this server; a failure only delays the others until their next sweep. */
    void decided(ChangeKind kind, String model) {
        try {
            changes.record(kind, model);
        } catch (StoreException e) {
            log.warn("{} - the {} could not be told to the other replicas ({}); they see it on their next sweep",
                    model, kind.code(), e.reason());
        }
    }

    private void changed(Change change) {
        boolean fresh = change.kind().orElseThrow() == ChangeKind.RESTART && !node().equals(change.node());
        if (change.kind().orElseThrow() == ChangeKind.UPLOAD && !node().equals(change.node())) {
            cells.prepare(change.model());
        }
        followOne(change.model(), fresh);
        // What this replica serves now; a start it just began is reported READY by the next sweep.
        cells.localView(change.model(), node()).ifPresent(store::report);
    }

    private void sweep() {
        try {
            List<String> names = new ArrayList<>(store.models().stream().map(m -> m.name()).toList());
            cells.localModels().stream().filter(n -> !names.contains(n)).forEach(names::add);
            for (String name : names) {
                followOne(name, false);
            }
            for (String name : cells.localModels()) {
                cells.localView(name, node()).ifPresent(store::report);
            }
            failAbandonedStarts(false);
            int pruned = store.pruneReplicas(Replica.PRUNE_AFTER);
            if (pruned > 0) {
                log.info("dropped {} replica row(s) of nodes silent for over {} min", pruned,
                        Replica.PRUNE_AFTER.toMinutes());
            }
        } catch (StoreException e) {
            log.debug("replica sweep: the database is failing ({})", e.reason());
        } catch (RuntimeException e) {
            log.error("replica sweep failed", e);
        }
    }

    /**
     * Versions left STARTING by the node that was deciding their start (the one the upload, start or activation came
     * through: {@link Store#decider}) once it is gone: its start ran nowhere else, so nobody would ever end it.
     * {@code own}: this node, just started again under the same name, fails those it was deciding itself, at once;
     * else those of a node silent for {@link Replica#GONE_AFTER}, decided longer ago than that. A decider that
     * heart-beats is never touched, however long its {@code load()} takes. Each is FAILED by a compare-and-set (of
     * several replicas sweeping, one wins), with an event and a change for the others.
     */
    void failAbandonedStarts(boolean own) {
        try {
            Instant threshold = store.now().minus(Replica.GONE_AFTER);
            for (Deployment d : store.starting()) {
                Store.Decider decider = store.decider(d).orElse(null);
                if (decider == null || decider.node() == null) {
                    continue;
                }
                boolean abandoned = own ? node().equals(decider.node())
                        : !node().equals(decider.node()) && decider.time().isBefore(threshold)
                                && store.lastSeen(decider.node()).map(seen -> seen.isBefore(threshold)).orElse(true);
                if (!abandoned) {
                    continue;
                }
                String error = "the server that was starting it (node " + decider.node() + ") stopped before it was"
                        + " READY; start it again with POST /api/models/" + d.model() + "/versions/" + d.version()
                        + "/activate, or upload it again";
                if (store.failAbandoned(d, decider, error)) {
                    log.info("{} v{} - FAILED: node {} stopped while starting it", d.model(), d.version(),
                            decider.node());
                    store.event(d.model(), d.version(), d.deployId(), "failed", error + " (failed by node " + node()
                            + (own ? ", started again" : "") + ")");
                    decided(ChangeKind.START, d.model());
                }
            }
        } catch (StoreException e) {
            log.debug("abandoned starts: the database is failing ({})", e.reason());
        }
    }

    /**
     * Stores every file of a received package as a blob (streamed; bytes already stored are not stored again) and
     * returns what the version's row records of them.
     */
    List<StoredFile> storeFiles(Path directory) {
        List<StoredFile> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
                String path = directory.relativize(file).toString().replace('\\', '/');
                // a jar linked to this server's kept copy is named by it, not read again
                java.util.Optional<String> kept = LibStore.isKept(path) ? libs.keptSha256(file)
                        : java.util.Optional.empty();
                String sha = kept.isPresent() ? kept.get() : sha256(file);
                try (InputStream in = Files.newInputStream(file)) {
                    blobs.put(sha, in);
                }
                files.add(new StoredFile(path, sha, Files.size(file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("storing the package in the database failed: " + e.getMessage(), e);
        }
        return files;
    }

    /**
     * Fetches a version still starting elsewhere and compiles it ({@code compile}), under the lock {@link #fetch}
     * takes: a start here that fetches the same version waits, then finds it compiled. Nothing when the folder is
     * there already.
     */
    synchronized void prepare(Deployment d, Path folder, java.util.function.Predicate<Path> compile) {
        if (Files.isDirectory(folder)) {
            return;
        }
        fetch(d, folder);
        if (Files.isDirectory(folder.resolve("serving"))) {
            long started = System.nanoTime();
            compile.test(folder);
            store.event(d.model(), d.version(), d.deployId(), "prepared", "compiled ahead of its start here in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
        }
    }

    /**
     * Writes a version's files from the database into {@code folder} when this replica lacks them: into a fresh
     * folder beside it first, moved into place whole, so a folder is complete or absent.
     */
    synchronized void fetch(Deployment d, Path folder) {
        if (Files.isDirectory(folder)) {
            return;
        }
        List<StoredFile> files = store.files(d.deployId());
        if (files.isEmpty()) {
            throw DeployerException.conflict("the files of version " + d.version() + " of " + d.model()
                    + " are not in the database (uploaded to a server without --db?); upload it again");
        }
        Path partial = folder.resolveSibling(folder.getFileName() + ".fetching-" + UUID.randomUUID());
        long started = System.nanoTime();
        int jars = 0;
        long jarBytes = 0;
        long jarBytesRead = 0;
        try {
            for (StoredFile f : files) {
                Path target = partial.resolve(f.path()).normalize();
                if (!target.startsWith(partial)) {
                    throw new IOException("a stored path leaves the package: " + f.path());
                }
                if (LibStore.isKept(f.path())) {
                    // linked to this replica's kept copy, read from the database only when it has none
                    jarBytesRead += libs.linkFrom(f.sha256(), target, out -> blobs.copyTo(f.sha256(), out));
                    jars++;
                    jarBytes += f.size();
                    continue;
                }
                Files.createDirectories(target.getParent());
                try (OutputStream out = Files.newOutputStream(target)) {
                    if (!blobs.copyTo(f.sha256(), out)) {
                        throw new IOException("blob " + f.sha256() + " of " + f.path() + " is missing");
                    }
                }
            }
            Files.createDirectories(folder.getParent());
            Files.move(partial, folder, StandardCopyOption.ATOMIC_MOVE);
            store.event(d.model(), d.version(), d.deployId(), "fetched", files.size() + " file(s) of version "
                    + d.version() + " written from the database in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms"
                    + (jars == 0 ? "" : String.format(java.util.Locale.ROOT,
                    "; %d jar(s), %.1f MiB, of which %.1f MiB kept here already", jars, jarBytes / 1048576.0,
                    (jarBytes - jarBytesRead) / 1048576.0)));
        } catch (IOException e) {
            deleteQuietly(partial);
            throw new UncheckedIOException("fetching version " + d.version() + " of " + d.model()
                    + " from the database failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(partial);
            throw e;
        }
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void deleteQuietly(Path root) {
        try {
            deployer.core.FileTrees.delete(root);
        } catch (RuntimeException e) {
            log.debug("could not remove {}: {}", root, e.getMessage());
        }
    }

    @Override
    public void close() {
        if (feed != null) {
            feed.close();
        }
        heart.shutdownNow();
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
