package deployer.cell;

import deployer.FileTrees;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.State;
import deployer.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts rows and folders back in step when the server starts, whatever stopped it: a row whose folder is missing is
 * FAILED, a folder no row names (an upload the server stopped before recording) is removed, and what should run
 * again is listed — per model, the active version that was READY or being started, then the newest version that was
 * still starting when the server stopped.
 */
final class Recovery {

    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    private final Store store;
    private final Path modelsDir;
    private final CellStarter starter;

    Recovery(Store store, Path modelsDir, CellStarter starter) {
        this.store = store;
        this.modelsDir = modelsDir;
        this.starter = starter;
    }

    /** Every model, with the deployments to start again in order (often none). */
    Map<String, List<Deployment>> reconcile() {
        Map<String, List<Deployment>> toStart = new LinkedHashMap<>();
        for (ModelRecord model : store.models()) {
            toStart.put(model.name(), reconcile(model));
        }
        removeUnknownModelFolders(toStart.keySet());
        return toStart;
    }

    private List<Deployment> reconcile(ModelRecord model) {
        List<Deployment> versions = store.deployments(model.name());
        removeOrphanFolders(model.name(), versions);
        Deployment active = null;
        Deployment newestStarting = null;
        for (Deployment d : versions) {
            if (!Files.isDirectory(folderOf(modelsDir, d))) {
                if (d.state() != State.FAILED && d.state() != State.RETIRED) {
                    starter.fail(d, "its files are missing from " + folderOf(modelsDir, d) + "; upload it again",
                            d.attempts());
                }
            } else if (model.activeDeployId() != null && d.deployId() == model.activeDeployId()) {
                active = d;
            } else if (d.state() == State.STARTING && newestStarting == null) {
                newestStarting = d;
            } else if (d.state() == State.STARTING) {
                starter.fail(d, "interrupted by a server restart; version " + newestStarting.version()
                        + " was uploaded after it", d.attempts());
            }
        }
        List<Deployment> toStart = new ArrayList<>();
        if (active != null && (active.state() == State.READY || active.state() == State.STARTING)) {
            toStart.add(active);
        }
        if (newestStarting != null && (active == null || newestStarting.version() > active.version())) {
            toStart.add(newestStarting);
        } else if (newestStarting != null) {
            starter.fail(newestStarting, "interrupted by a server restart", newestStarting.attempts());
        }
        return toStart;
    }

    private void removeOrphanFolders(String model, List<Deployment> versions) {
        Set<String> known = new HashSet<>();
        versions.forEach(d -> known.add(Long.toString(d.deployId())));
        for (Path folder : folders(modelsDir.resolve(model))) {
            if (!known.contains(folder.getFileName().toString())) {
                log.info("removing {}: no deployment row names it (an upload interrupted by a crash)", folder);
                deleteQuietly(folder);
                store.event(model, null, null, "discarded", "removed " + folder.getFileName() + "/: the files of an"
                        + " upload the server stopped before recording; that upload never got an answer");
            }
        }
    }

    private void removeUnknownModelFolders(Set<String> models) {
        for (Path folder : folders(modelsDir)) {
            if (!models.contains(folder.getFileName().toString())) {
                log.info("removing {}: no model row names it", folder);
                deleteQuietly(folder);
            }
        }
    }

    static Path folderOf(Path modelsDir, Deployment d) {
        return modelsDir.resolve(d.model()).resolve(Long.toString(d.deployId()));
    }

    private static List<Path> folders(Path folder) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (var entries = Files.list(folder)) {
            return entries.filter(Files::isDirectory).toList();
        } catch (IOException e) {
            log.warn("could not list {}: {}", folder, e.getMessage());
            return List.of();
        }
    }

    static void deleteQuietly(Path root) {
        try {
            FileTrees.delete(root);
        } catch (UncheckedIOException e) {
            log.warn("{}", e.getMessage());
        }
    }
}
