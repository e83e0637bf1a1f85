package deployer.cell;

import deployer.core.CrashPoints;
import deployer.core.Settings;
import deployer.pack.ScriptCompiler;
import deployer.store.Store;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The long-lived parts of the cells, built by the composition root ({@code Deployer.start}, through {@link #wire})
 * and handed to {@link CellManager}, which only uses them: the pinger, the deadlines, the unloader, the cell factory,
 * the starter, the deleter, the health loop, the models' logs and the slots they share. {@link #wire} constructs and
 * connects, and starts nothing; the manager starts the health loop at {@link CellManager#restore} and closes them all.
 */
public final class CellParts {

    final CellExecutors threads;
    final ConcurrentMap<String, ModelSlot> slots = new ConcurrentHashMap<>();
    /** Told the name of a model once it is deleted (here or through another replica), after its cells went. */
    final List<Consumer<String>> deletedListeners = new CopyOnWriteArrayList<>();
    final ModelLogs logs = new ModelLogs();
    final Deadlines deadlines;
    final Unloader unloader;
    final CellFactory factory;
    final CellStarter starter;
    final Deleter deleter;
    final HealthLoop healthLoop;
    /** What a model's deletion tells the layers that keep per-model state. */
    final Consumer<String> forgotten;

    private CellParts(Store store, Path data, Settings settings, CellExecutors threads, ScriptCompiler compiler,
                      PortBinder binder, CellObserver observer, CrashPoints crash) {
        this.threads = threads;
        String host = settings.cellHost();
        String pingHost = host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") ? "127.0.0.1" : host;
        Pinger pinger = new Pinger(threads.scheduler, threads.cells, binder.pingTls().orElse(null));
        this.deadlines = new Deadlines(threads.scheduler);
        this.unloader = new Unloader(store, threads.scheduler, CellManager.UNLOAD_WAIT_MS);
        this.factory = new CellFactory(compiler, observer, deadlines,
                new deployer.runtime.Runtimes(data.resolve("runtimes")));
        this.starter = new CellStarter(store, factory, binder, settings.cellPorts(), pingHost, pinger, unloader,
                threads.cells, CellManager.DRAIN_MS, observer, crash, logs);
        this.forgotten = model -> {
            observer.modelDeleted(model);
            logs.forget(model);
            deletedListeners.forEach(l -> l.accept(model));
        };
        this.deleter = new Deleter(store, starter, unloader, binder, threads.cells, slots, starter::cancelStart, data,
                forgotten);
        this.healthLoop = new HealthLoop(slots::values, pinger, pingHost, settings.pingIntervalMs(),
                settings.pingFailures(), threads.scheduler, store, observer);
    }

    /**
     * Builds the cells' parts on {@code threads}, for the data folder {@code data}.
     *
     * @param crash where a crash test halts the process ({@link CrashPoints#none()} but in those tests)
     */
    public static CellParts wire(Store store, Path data, Settings settings, CellExecutors threads,
                                 ScriptCompiler compiler, PortBinder binder, CellObserver observer, CrashPoints crash) {
        return new CellParts(store, data, settings, threads, compiler, binder, observer, crash);
    }
}
