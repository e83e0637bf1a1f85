package deployer;

import com.zaxxer.hikari.HikariDataSource;
import deployer.cell.CellManager;
import deployer.guard.ExitGuard;
import deployer.http.WebServer;
import deployer.metrics.Metrics;
import deployer.pack.LibStore;
import deployer.pack.PackLimits;
import deployer.pack.PackageReceiver;
import deployer.pack.ScriptCompiler;
import deployer.pack.SpiJar;
import deployer.store.Database;
import deployer.store.Store;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running deployer: the composition root that wires settings, database, cells and Jetty, and stops them in the
 * reverse order. {@link #start} is what {@code main} and the tests both call.
 */
public final class Deployer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Deployer.class);

    private final Settings settings;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final HikariDataSource dataSource;
    private final CellManager cells;
    private final WebServer web;
    private final String token;
    private final Metrics metrics;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Deployer(Settings settings, FileChannel lockChannel, FileLock lock, HikariDataSource dataSource,
                     CellManager cells, WebServer web, String token, Metrics metrics) {
        this.metrics = metrics;
        this.settings = settings;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.dataSource = dataSource;
        this.cells = cells;
        this.web = web;
        this.token = token;
    }

    /** Starts a deployer on {@code settings}; when this returns, the API answers and restored cells are starting. */
    public static Deployer start(Settings settings) throws Exception {
        SafeBinding.check(settings);
        Path data = settings.data().toAbsolutePath();
        Files.createDirectories(data);
        FileChannel lockChannel = FileChannel.open(data.resolve("deployer.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock = tryLock(lockChannel, data);
        // The database opens (and migrates) on a thread of its own while Jetty is built: they are the two longest
        // steps of a start, and neither needs the other.
        CompletableFuture<HikariDataSource> opening = CompletableFuture.supplyAsync(
                () -> Database.open(data.resolve("db")), task -> new Thread(task, "deployer-db-open").start());
        CellManager cells = null;
        WebServer web = null;
        Metrics metrics = new Metrics();
        try {
            String token = settings.token().orElseGet(() -> tokenFile(data.resolve("admin.token")));
            Path staging = data.resolve("staging");
            FileTrees.delete(staging);
            Files.createDirectories(staging);
            ScriptCompiler compiler = new ScriptCompiler(SpiJar.write(data.resolve("lib").resolve("deployer-spi.jar")));
            web = new WebServer(settings);
            Json.warm();
            HikariDataSource dataSource = opened(opening);
            Store store = new Store(dataSource);
            cells = new CellManager(store, data, settings, compiler, web, metrics, CrashPoints.fromEnvironment());
            metrics.watch(cells::snapshot, cells::unloadedButReachable);
            LibStore libs = new LibStore(data.resolve("libs"));
            libs.sweep();
            PackageReceiver receiver = new PackageReceiver(staging, PackLimits.forUploadMb(settings.maxUploadMb()),
                    libs);
            String hint = settings.token().isPresent() ? "the token given by --token or DEPLOYER_TOKEN"
                    : "the token is in " + data.resolve("admin.token");
            web.mount(store, cells, receiver, token, hint);
            web.mountMetrics(metrics, store, cells);
            web.start();
            metrics.bindJvmMeters();
            writeAtomically(data.resolve("server.port"), Integer.toString(web.port()));
            cells.restore();
            log.info("deployer listening on {} (data in {})", web.uri(), data);
            if (!ExitGuard.active()) {
                log.warn("the exit guard is not active (start with java -jar deployer.jar, or -javaagent): a model"
                        + " that calls System.exit or Runtime.halt will stop the server");
            }
            return new Deployer(settings, lockChannel, lock, dataSource, cells, web, token, metrics);
        } catch (Exception | Error e) {
            if (web != null) {
                web.close();
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

    public URI uri() {
        return web.uri();
    }

    public String token() {
        return token;
    }

    public Settings settings() {
        return settings;
    }

    /** Stops taking requests, drains and closes every cell, then shuts the database down cleanly. Idempotent. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        web.close();
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
                    System.out.println("admin token in " + file);
                    return existing;
                }
                log.warn("{} holds no usable token; making a new one", file);
            }
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(temp);
            try {
                Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(temp);
            }
            Files.writeString(temp, token + "\n", StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            System.out.println("admin token written to " + file + " (readable by you only)");
            return token;
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("could not create " + file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("could not read or write the admin token at " + file + ": "
                    + e.getMessage(), e);
        }
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temp, text + "\n", StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
