package deployer.cell;

import deployer.core.DeployerException;
import deployer.pack.Manifest;
import deployer.pack.ModelClasses;
import deployer.pack.ScriptCompiler;
import deployer.runtime.Runtimes;
import deployer.spi.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Builds a cell from a package folder: compiles its scripts, makes its class loader, creates its model. */
final class CellFactory {

    static final String SERVICE_FILE = "META-INF/services/" + Model.class.getName();

    private final ScriptCompiler compiler;
    private final ClassLoader parent;
    private final CellObserver observer;
    private final Deadlines deadlines;
    private final Runtimes runtimes;
    /** Cells of {@code "isolation": "process"}; null where every cell runs in this JVM (a cell alone, a child). */
    private volatile deployer.cell.process.ProcessCells processes;
    private volatile java.util.function.BiConsumer<CellId, String> childDied = (id, why) -> { };

    CellFactory(ScriptCompiler compiler, CellObserver observer, Deadlines deadlines) {
        this(compiler, observer, deadlines, null);
    }

    /** @param runtimes the no-code runtimes; null for a server that serves packages with their own classes only */
    CellFactory(ScriptCompiler compiler, CellObserver observer, Deadlines deadlines, Runtimes runtimes) {
        this.runtimes = runtimes;
        this.compiler = compiler;
        this.observer = observer;
        this.deadlines = deadlines;
        this.parent = new SpiOnlyLoader(Model.class.getClassLoader());
    }

    /**
     * Makes the cells of {@code "isolation": "process"} manifests child JVMs from {@code processes}; {@code died}
     * hears of a child that exited unasked. Without this call such a manifest is served in this JVM.
     */
    void processCells(deployer.cell.process.ProcessCells processes, java.util.function.BiConsumer<CellId, String> died) {
        this.processes = processes;
        this.childDied = died;
    }

    /**
     * Compiles {@code serving/*.java} into {@code .deployer/classes} once per package (the folder never changes
     * after upload, so a finished compile is kept and reused on the next start).
     *
     * @return whether the package had scripts
     */
    boolean compile(Path directory) {
        try {
            return compiler.compileOnce(directory);
        } catch (IOException e) {
            throw new Cell.CellFailure("could not write to " + classesOf(directory) + ": " + e.getMessage(), e);
        }
    }

    /** Creates the cell's loader and model; the model is not loaded yet. */
    Cell create(CellId id, Manifest manifest, Path directory) {
        deployer.cell.process.ProcessCells children = processes;
        if (children != null && manifest.isolation().process()) {
            return createProcess(id, manifest, directory, children);
        }
        List<Path> runtimeJars = List.of();
        if (runtimes != null) {
            // a package that carries lib/onnxruntime-*.jar gives the server its copy, for later no-code packages
            try {
                runtimes.adopt(directory);
            } catch (RuntimeException e) {
                // the package serves all the same; a later no-code package then says where ONNX Runtime goes
            }
        }
        if (manifest.runtime() != null) {
            if (runtimes == null) {
                throw new Cell.CellFailure("runtime " + manifest.runtime() + " is not available in this server");
            }
            try {
                runtimeJars = runtimes.prepare(directory, manifest);
            } catch (IllegalStateException e) {
                throw new Cell.CellFailure(e.getMessage(), e);
            }
        }
        CellClassLoader loader = new CellClassLoader(id.model() + "-v" + id.version(), urls(directory, runtimeJars),
                parent, Runtimes.ownClasses(manifest), Model.class.getClassLoader());
        try {
            String entry = Runtimes.entry(manifest) != null ? Runtimes.entry(manifest) : discoverEntry(directory);
            return new Cell(id, manifest, loader, instantiate(loader, entry), observer.cell(id.model(), id.version()),
                    deadlines);
        } catch (RuntimeException | Error e) {
            closeQuietly(loader);
            throw e;
        }
    }

    /**
     * A cell whose model is a child JVM ({@link deployer.cell.process.ProcessModel}): its loader holds nothing, and it
     * batches nothing itself — the child's own cell does that, with the manifest as written.
     */
    private Cell createProcess(CellId id, Manifest manifest, Path directory,
                               deployer.cell.process.ProcessCells children) {
        CellClassLoader loader = new CellClassLoader(id.model() + "-v" + id.version() + "-process", new URL[0],
                parent);
        Manifest proxied = new Manifest(manifest.name(), manifest.entry(), manifest.description(), manifest.files(),
                manifest.properties(), manifest.health(), manifest.limits(), manifest.inputs(), manifest.outputs(),
                manifest.runtime(), manifest.model(), null, manifest.isolation());
        Model model = children.model(id.model() + "-v" + id.version(), id.version(), manifest, directory,
                why -> childDied.accept(id, why));
        return new Cell(id, proxied, loader, model, observer.cell(id.model(), id.version()), deadlines);
    }

    private static URL[] urls(Path directory, List<Path> extraJars) {
        List<URL> urls = new ArrayList<>();
        try {
            Path classes = classesOf(directory);
            if (Files.isDirectory(classes)) {
                urls.add(classes.toUri().toURL());
            }
            for (Path jarFolder : List.of(directory, directory.resolve("lib"))) {
                if (!Files.isDirectory(jarFolder)) {
                    continue;
                }
                try (Stream<Path> jars = Files.list(jarFolder)) {
                    for (Path jar : jars.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                        urls.add(jar.toUri().toURL());
                    }
                }
            }
            for (Path jar : extraJars) {
                urls.add(jar.toUri().toURL());
            }
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new Cell.CellFailure("could not list the package's jars: " + e.getMessage(), e);
        }
        return urls.toArray(URL[]::new);
    }

    /**
     * The one class named by the package's own {@code META-INF/services/deployer.spi.Model} files, read by the
     * package check that let the upload in ({@link ModelClasses#entryOf}); its refusal fails the cell instead.
     */
    private static String discoverEntry(Path directory) {
        try {
            return ModelClasses.entryOf(directory);
        } catch (DeployerException e) {
            throw new Cell.CellFailure(e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new Cell.CellFailure("could not read " + SERVICE_FILE + ": " + e.getCause().getMessage(), e);
        }
    }

    private static Model instantiate(CellClassLoader loader, String entry) {
        Class<?> type;
        try {
            type = Class.forName(entry, false, loader);
        } catch (ClassNotFoundException e) {
            throw new Cell.CellFailure("model class " + entry + " was not found in the package (check \"entry\" in"
                    + " deploy.json, the package name in serving/*.java, or the jars)");
        } catch (LinkageError e) {
            throw new Cell.CellFailure("model class " + entry + " could not be loaded: " + Cell.describe(e), e);
        }
        if (!Model.class.isAssignableFrom(type)) {
            throw new Cell.CellFailure("class " + entry + " does not implement " + Model.class.getName());
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            Constructor<?> constructor = type.getDeclaredConstructor();
            return (Model) constructor.newInstance();
        } catch (NoSuchMethodException e) {
            throw new Cell.CellFailure("model class " + entry + " needs a public constructor without arguments");
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new Cell.CellFailure("model class " + entry + " could not be created: " + ModelTrace.describe(cause),
                    cause);
        } catch (LinkageError e) {
            throw new Cell.CellFailure("model class " + entry + " could not be initialized: " + Cell.describe(e), e);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    static Path classesOf(Path directory) {
        return ScriptCompiler.classesOf(directory);
    }

    private static void closeQuietly(CellClassLoader loader) {
        try {
            loader.close();
        } catch (IOException ignored) {
            // nothing was loaded through it that needs closing
        }
    }
}
