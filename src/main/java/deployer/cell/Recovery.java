package deployer.cell;

import deployer.core.Sha256;
import deployer.store.Deployment;
import deployer.store.ModelRecord;
import deployer.store.State;
import deployer.store.Store;
import java.io.IOException;
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
 * FAILED, a folder no row names (an upload the server stopped before recording) is moved to {@code removed/} — never
 * deleted: a package is not thrown away because a record is missing — and what should run again is listed — per
 * model, the active version that was READY or being started, then the newest version that was still starting when
 * the server stopped.
 *
 * <p>Model folders beside a database with no record at all mean the database was lost, not that the uploads were
 * interrupted: {@link #checkRecords} refuses to start then, and {@link #rebuild} ({@code serve --rebuild-db}) makes
 * the records again from the folders.
 */
final class Recovery {

    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    private final Store store;
    private final Path modelsDir;
    private final Path removedDir;
    private final CellStarter starter;

    Recovery(Store store, Path modelsDir, Path removedDir, CellStarter starter) {
        this.store = store;
        this.modelsDir = modelsDir;
        this.removedDir = removedDir;
        this.starter = starter;
    }

    /**
     * Refuses a database with no record beside a models folder with packages in it, naming what was found and what
     * to do; changes nothing.
     */
    static void checkRecords(Store store, Path modelsDir, Path dbDir) {
        List<String> found = new ArrayList<>();
        int packages = 0;
        for (Path model : folders(modelsDir)) {
            int versions = folders(model).size();
            if (versions > 0) {
                found.add(model.getFileName() + " (" + versions + (versions == 1 ? " version)" : " versions)"));
                packages += versions;
            }
        }
        if (packages == 0 || !store.isEmpty()) {
            return;
        }
        throw new IllegalStateException("refusing to start: " + modelsDir + " holds " + packages + " package(s) of "
                + found.size() + " model(s) — " + String.join(", ", found) + " — but the database in " + dbDir
                + " has no record of any (it is missing or empty). Nothing was changed. Restore "
                + dbDir.resolve("deployer.mv.db") + " from a backup; or start once with --rebuild-db to record the"
                + " models again from their deploy.json files (every version comes back STOPPED); or move "
                + modelsDir + " away to start empty.");
    }

    /**
     * Records every package folder {@code models/<name>/<deploy_id>/} with a readable deploy.json naming that model,
     * as a STOPPED version of it (numbered in deploy_id order), each model's newest as its active version. Only on an
     * empty database. Returns how many versions were recorded; what could not be read is logged and left in place.
     */
    static int rebuild(Store store, Path modelsDir) {
        if (!store.isEmpty()) {
            throw new IllegalStateException("--rebuild-db: the database already has records; it rebuilds only a"
                    + " missing or empty one. Start without --rebuild-db");
        }
        int recorded = 0;
        for (Path modelFolder : folders(modelsDir)) {
            String model = modelFolder.getFileName().toString();
            List<Path> versions = new ArrayList<>(folders(modelFolder).stream()
                    .filter(f -> f.getFileName().toString().matches("[0-9]{1,18}")).toList());
            versions.sort(java.util.Comparator.comparingLong(f -> Long.parseLong(f.getFileName().toString())));
            int version = 0;
            for (Path folder : versions) {
                try {
                    byte[] manifest = Files.readAllBytes(folder.resolve("deploy.json"));
                    String name = deployer.pack.Manifest.parse(manifest).name();
                    if (!name.equals(model)) {
                        log.warn("--rebuild-db: {} names model {}, not {}; left as it is", folder, name, model);
                        continue;
                    }
                    Digest digest = digest(folder);
                    long id = Long.parseLong(folder.getFileName().toString());
                    if (store.rebuild(model, id, ++version, digest.sha256(), digest.size(),
                            new String(manifest, java.nio.charset.StandardCharsets.UTF_8),
                            Files.getLastModifiedTime(folder).toInstant())) {
                        store.event(model, version, id, "rebuilt", "recorded again from " + folder
                                + " by --rebuild-db; STOPPED until started");
                        recorded++;
                    }
                } catch (IOException | RuntimeException e) {
                    log.warn("--rebuild-db: {} is not a package this server can read ({}); left as it is", folder,
                            e.getMessage());
                }
            }
        }
        store.finishRebuild();
        log.info("--rebuild-db: {} version(s) recorded from {}", recorded, modelsDir);
        return recorded;
    }

    private record Digest(String sha256, long size) {
    }

    /** SHA-256 over the folder's files (path and bytes, in path order): the archive's own digest is not kept. */
    private static Digest digest(Path folder) throws IOException {
        java.security.MessageDigest sha = Sha256.newDigest();
        long size = 0;
        try (var files = Files.walk(folder)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                sha.update(folder.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                byte[] bytes = Files.readAllBytes(f);
                sha.update(bytes);
                size += bytes.length;
            }
        }
        return new Digest(Sha256.hex(sha), size);
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
        List<Deployment> besides = new ArrayList<>();
        for (Deployment d : versions) {
            if (!Files.isDirectory(folderOf(modelsDir, d))) {
                if (d.state() != State.FAILED && d.state() != State.RETIRED) {
                    starter.fail(d, "its files are missing from " + folderOf(modelsDir, d) + "; upload it again",
                            d.attempts());
                }
            } else if (model.activeDeployId() != null && d.deployId() == model.activeDeployId()) {
                active = d;
            } else if (d.state() == State.READY) {
                // Not the active version, yet READY: it served beside it (a traffic split, a candidate).
                besides.add(d);
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
        if (!toStart.isEmpty()) {
            toStart.addAll(besides);
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
                Path kept = setAside(folder, model + "." + folder.getFileName() + ".unrecorded");
                log.info("moved {} to {}: no deployment row names it (an upload interrupted by a crash)", folder,
                        kept);
                store.event(model, null, null, "discarded", "moved " + folder.getFileName() + "/ to " + kept
                        + ": the files of an upload the server stopped before recording; that upload never got an"
                        + " answer");
            }
        }
    }

    private void removeUnknownModelFolders(Set<String> models) {
        for (Path folder : folders(modelsDir)) {
            if (!models.contains(folder.getFileName().toString())) {
                Path kept = setAside(folder, folder.getFileName() + ".unrecorded");
                log.info("moved {} to {}: no model row names it (a first upload interrupted by a crash)", folder,
                        kept);
            }
        }
    }

    /** Moves a folder no record names to {@code removed/}, where the server never touches it again. */
    private Path setAside(Path folder, String name) {
        Path target = removedDir.resolve(name + "." + System.currentTimeMillis());
        try {
            Files.createDirectories(removedDir);
            return Files.move(folder, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("could not move {} to {} ({}); left where it is", folder, target, e.getMessage());
            return folder;
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
}
