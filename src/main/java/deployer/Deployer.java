package deployer;

import com.zaxxer.hikari.HikariDataSource;
import deployer.cell.CellExecutors;
import deployer.cell.CellManager;
import deployer.cell.CellParts;
import deployer.cell.EventLog;
import deployer.cell.ModelSlot;
import deployer.pack.StagedPackage;
import deployer.store.State;
import deployer.store.Deployment;
import deployer.guard.ExitGuard;
import deployer.http.ScoreTokens;
import deployer.http.Tls;
import deployer.http.WebServer;
import deployer.metrics.Metrics;
import deployer.pack.LibStore;
import deployer.pack.PackLimits;
import deployer.pack.PackageReceiver;
import deployer.pack.ScriptCompiler;
import deployer.pack.SpiJar;
import deployer.store.Database;
import deployer.store.Store;
import deployer.store.Tokens;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import deployer.core.Json;
import deployer.core.FileTrees;
import deployer.core.CrashPoints;
import deployer.core.Settings;
import deployer.core.SafeBinding;

/**
 * A running deployer: the composition root that wires settings, database, cells and Jetty, and stops them in the
 * reverse order. {@link #start} is what {@code main} and the tests both call.
 */
public final class Deployer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Deployer.class);
    /** Beyond the longest request deadline, for the 504 (or the answer) to be written out. */
    static final long STOP_MARGIN_MS = 2_000;

    private final Settings settings;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final HikariDataSource dataSource;
    private final CellManager cells;
    private final WebServer web;
    private final String token;
    private final Metrics metrics;
    private final Tls tls;
    private final PackageReceiver receiver;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Traffic between versions (DESIGN 1.11): set once, right after construction. */
    private deployer.traffic.Traffic traffic;

    private Deployer(Settings settings, FileChannel lockChannel, FileLock lock, HikariDataSource dataSource,
                     CellManager cells, WebServer web, String token, Metrics metrics, Tls tls,
                     PackageReceiver receiver) {
        this.receiver = receiver;
        this.metrics = metrics;
        this.tls = tls;
        this.settings = settings;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.dataSource = dataSource;
        this.cells = cells;
        this.web = web;
        this.token = token;
    }

    /**
     * How a start differs from the usual one.
     *
     * @param rebuildDb {@code serve --rebuild-db}: record the models again from their folders, into an empty database
     * @param dataSource wraps the database's pool (tests put a fault-injecting wrapper around the real H2)
     */
    record StartOptions(boolean rebuildDb, UnaryOperator<DataSource> dataSource, boolean cellAlone) {
        static final StartOptions DEFAULT = new StartOptions(false, UnaryOperator.identity(), false);

        StartOptions(boolean rebuildDb, UnaryOperator<DataSource> dataSource) {
            this(rebuildDb, dataSource, false);
        }
    }

    /**
     * {@code deployer cell}: one package served alone, as a container runs it — the server's own cell code on the
     * model's port ({@code /predict}, {@code /health}, {@code /v2/**}, {@code /metrics}), with its records in a
     * throw-away folder and the management API on a loopback port no one is told of. Returns once the model is
     * READY; throws with the deployment's error when it is not.
     *
     * @param settings with the data folder to throw away afterwards, and the cell's host and port as
     *     {@code cellHost}/{@code cellPorts}
     */
    static Deployer startCell(Settings settings, Path source, long waitSeconds) throws Exception {
        return startCell(settings, source, waitSeconds, 0);
    }

    /** The same, the model told it is version {@code version} (a process cell's child: the server's number). */
    static Deployer startCell(Settings settings, Path source, long waitSeconds, int version) throws Exception {
        Deployer started = start(settings, new StartOptions(false, UnaryOperator.identity(), true));
        if (version > 0) {
            started.cells.presentVersion(version);
        }
        try {
            Deployment outcome;
            try (StagedPackage staged = started.receiver.stageLocal(source)) {
                CellManager.Accepted accepted = started.cells.accept(staged);
                outcome = accepted.outcome().get(waitSeconds, java.util.concurrent.TimeUnit.SECONDS);
            }
            if (outcome.state() != State.READY) {
                throw new IllegalStateException("model " + outcome.model() + " did not load: " + outcome.error());
            }
            return started;
        } catch (Exception | Error e) {
            started.close();
            throw e;
        }
    }

    /** The port of the one model a cell alone serves ({@link #startCell}); 0 before it is bound. */
    int cellPort() {
        return cells.snapshot().stream().findFirst().flatMap(m -> cells.slot(m.model())).map(ModelSlot::port)
                .orElse(0);
    }

    /** The place of the one model a cell alone serves ({@link #startCell}). */
    ModelSlot cellSlot() {
        return cells.snapshot().stream().findFirst().flatMap(m -> cells.slot(m.model())).orElseThrow();
    }

    /** The scoring path of that model for the server's frames, in a process cell's child. */
    deployer.cell.FrameScoring frameScoring() {
        return new deployer.cell.FrameScoring(cellSlot());
    }

    /** Starts a deployer on {@code settings}; when this returns, the API answers and restored cells are starting. */
    public static Deployer start(Settings settings) throws Exception {
        return start(settings, StartOptions.DEFAULT);
    }

    static Deployer start(Settings settings, StartOptions options) throws Exception {
        SafeBinding.check(settings);
        Path data = settings.data().toAbsolutePath().normalize();
        Files.createDirectories(data);
        FileChannel lockChannel = FileChannel.open(data.resolve("deployer.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock = tryLock(lockChannel, data);
        // The database opens (and migrates) on a thread of its own while Jetty is built: they are the two longest
        // steps of a start, and neither needs the other.
        CompletableFuture<HikariDataSource> opening = CompletableFuture.supplyAsync(
                () -> settings.db().embedded() ? Database.open(data.resolve("db"))
                        : Database.openPostgres(settings.db().url().orElseThrow(), settings.db().user().orElse(null),
                                settings.db().password().orElse(null)),
                task -> new Thread(task, "deployer-db-open").start());
        CellManager cells = null;
        WebServer web = null;
        Tls tls = null;
        Metrics metrics = new Metrics();
        deployer.traffic.Traffic traffic = null;
        try {
            String token = settings.token().orElseGet(() -> tokenFile(data.resolve("admin.token")));
            Path staging = data.resolve("staging");
            FileTrees.delete(staging);
            Files.createDirectories(staging);
            ScriptCompiler compiler = new ScriptCompiler(SpiJar.write(data.resolve("lib").resolve("deployer-spi.jar")));
            tls = Tls.start(settings.security());
            web = new WebServer(settings, tls);
            Json.warm();
            HikariDataSource dataSource = opened(opening);
            javax.sql.DataSource storage = options.dataSource().apply(dataSource);
            String node = settings.db().embedded() ? null : settings.db().nodeName(data);
            // The audit log's mirror in the server log hears each event as the store records it.
            Store store = new Store(storage, node, new EventLog());
            CrashPoints crash = CrashPoints.fromEnvironment();
            // The cells' long-lived parts (threads, pinger, deadlines, unloader, factory, starter, deleter, health
            // loop), built here and handed to the manager, which closes them.
            CellParts parts = CellParts.wire(store, data, settings, CellExecutors.start(), compiler, web, metrics,
                    crash);
            cells = new CellManager(store, data, settings, parts, web, metrics, crash);
            // Before any version is fetched or uploaded: the sweep deletes kept jars no version links to.
            LibStore libs = new LibStore(data.resolve("libs"));
            libs.sweep();
            if (node != null) {
                // Replicas on one database (DESIGN 1.12): packages as blobs, decisions as a change feed.
                cells.replicate(new deployer.store.Blobs(storage), libs, new deployer.store.Changes(storage, node));
            }
            // Before the port is bound and written: a data folder whose records are lost is refused untouched.
            cells.checkRecords(options.rebuildDb());
            metrics.watch(cells::snapshot, cells::unloadedButReachable);
            PackageReceiver receiver = new PackageReceiver(staging, PackLimits.forUploadMb(settings.maxUploadMb()),
                    libs);
            // Said to anyone who calls without the token: where it is, but not the server's folders.
            String hint = settings.token().isPresent() ? "the token given by --token or DEPLOYER_TOKEN"
                    : "see admin.token in the server's data folder";
            Path tokenFile = data.resolve("admin.token");
            Tokens tokens = new Tokens(storage, InstantSource.system(), rotated -> {
                if (settings.token().isEmpty()) {
                    rewriteTokenFile(tokenFile, rotated);
                }
            });
            tokens.adopt(token);
            web.guardScoring(new ScoreTokens(tokens, settings.security().requireScoreToken()));
            traffic = new deployer.traffic.Traffic(cells, store, storage, data, settings.pingIntervalMs(),
                    settings.pingFailures(), settings.payloadLogMb() << 20, metrics::shadow,
                    null);
            web.traffic(traffic);
            // The main port's routes, in one place: the API, gateway and admin page; the Open Inference Protocol;
            // the metrics.
            web.mount(store, cells, receiver, tokens, hint);
            web.mountOip(store, cells);
            web.mountMetrics(metrics, store, cells);
            if (options.cellAlone()) {
                web.metricsOnCellPorts(metrics);
            }
            web.start();
            metrics.bindJvmMeters();
            if (!options.cellAlone()) {
                cells.runProcessCells();
            }
            cells.restore();
            traffic.restore();
            // Written last: whoever waits for this file (bin/deployer, a test) finds every recorded model known.
            writeAtomically(data.resolve("server.port"), Integer.toString(web.port()));
            log.info("deployer listening on {} (data in {})", web.uri(), data);
            // A cell alone is a process of its own (a container, a process cell): an exit there ends that cell only.
            if (!ExitGuard.active() && !options.cellAlone()) {
                log.warn("the exit guard is not active (start with java -jar deployer.jar, or -javaagent): a model"
                        + " that calls System.exit or Runtime.halt will stop the server");
            }
            Deployer started = new Deployer(settings, lockChannel, lock, dataSource, cells, web, token, metrics, tls,
                    receiver);
            started.traffic = traffic;
            return started;
        } catch (Exception | Error e) {
            if (web != null) {
                web.close();
            }
            if (tls != null) {
                tls.close();
            }
            if (traffic != null) {
                traffic.close();
            }
            if (cells != null) {
                cells.close();
            }
            opening.thenAccept(Database::shutdown).exceptionally(failed -> null).join();
            metrics.close();
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    public int port() {
        return web.port();
    }

    /** Traffic between the models' versions (splits, pins, shadow, payload records). */
    public deployer.traffic.Traffic traffic() {
        return traffic;
    }

    public URI uri() {
        return web.uri();
    }

    public String token() {
        return token;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * A clean stop that finishes what it started: the health loop stops (so closing ports are not read as failed
     * pings), every port stops taking requests, those in flight are answered — each within its own
     * {@code limits.timeout_ms}, after which the cell answers 504 itself — then the cells close and the database
     * shuts down cleanly. Idempotent.
     */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        cells.stopHealthLoop();
        web.stopGracefully(cells.longestRequestMs() + STOP_MARGIN_MS);
        if (tls != null) {
            tls.close();
        }
        if (traffic != null) {
            // Shadow copies and payload records still queued are given up; the writer finishes its line.
            traffic.close();
        }
        cells.close();
        Database.shutdown(dataSource);
        metrics.close();
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            log.warn("releasing the data folder lock failed: {}", e.getMessage());
        }
        log.info("deployer stopped");
    }

    /** The opened database, or the reason it could not open as thrown by {@link Database#open}. */
    private static HikariDataSource opened(CompletableFuture<HikariDataSource> opening) {
        try {
            return opening.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error cause) {
                throw cause;
            }
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel channel, Path data) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new IllegalStateException("another deployer is already running on " + data + " (it holds "
                    + data.resolve("deployer.lock") + "); stop it or pass another --data");
        }
        return lock;
    }

    /** Reads the admin token, or makes one on first start, readable by the owner only. */
    private static String tokenFile(Path file) {
        try {
            if (Files.exists(file)) {
                String existing = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (existing.length() >= 16) {
                    ownerOnly(file);
                    System.out.println("admin token in " + file);
                    return existing;
                }
                log.warn("{} holds no usable token; making a new one", file);
            }
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            writeOwnerOnly(file, token);
            System.out.println("admin token written to " + file + " (readable by you only)");
            return token;
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("could not create " + file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("could not read or write the admin token at " + file + ": "
                    + e.getMessage(), e);
        }
    }

    /** A token file others can read is made owner-only, and the owner is told: the token may have been seen. */
    private static void ownerOnly(Path file) throws IOException {
        java.util.Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return;
        }
        java.util.Set<PosixFilePermission> others = java.util.EnumSet.of(PosixFilePermission.GROUP_READ,
                PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
        others.retainAll(permissions);
        if (!others.isEmpty()) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            log.warn("{} was readable by others ({}); made it readable by its owner only. Anyone who read it holds"
                    + " the admin token: delete the file and restart to make a new one", file,
                    PosixFilePermissions.toString(permissions));
        }
    }

    /** After {@code rotate-admin}: the generated token's file holds the new one, so the CLI on this box follows. */
    private static void rewriteTokenFile(Path file, String token) {
        try {
            writeOwnerOnly(file, token);
        } catch (IOException e) {
            log.warn("the admin token was rotated but {} could not be rewritten: {}", file, e.getMessage());
        }
    }

    /** Replaces {@code file} with one line, in a file readable by its owner only from the moment it exists. */
    private static void writeOwnerOnly(Path file, String line) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        try {
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(temp);
        }
        Files.writeString(temp, line + "\n", StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temp, text + "\n", StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
