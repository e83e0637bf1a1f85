package deployer.cli;

import deployer.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The client's own file (DESIGN 1.13): the server and token {@code deployer login} checked, kept in
 * {@code client.json} so every client command finds them from any folder. The file is found from the environment
 * only — {@code DEPLOYER_CONFIG} (the file itself), else {@code $XDG_CONFIG_HOME/deployer/client.json}, else
 * {@code $HOME/.config/deployer/client.json} — so a test that hands a command an environment of its own never reads
 * or writes the real home. The folder is made owner-only (0700) and the file is written owner-only (0600) before the
 * token is in it, then moved into place.
 *
 * @param file where the client's file is (it may not exist); null when the environment names no home at all
 * @param source how {@code file} was found, for messages: {@code "DEPLOYER_CONFIG"}, {@code "XDG_CONFIG_HOME"} …
 */
record ClientHome(Path file, String source) {

    static final String FILE = "client.json";
    static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> OWNER_FOLDER = PosixFilePermissions.fromString("rwx------");

    /**
     * What {@code login} kept.
     *
     * @param server the server's base URL
     * @param token its admin token
     */
    record Login(String server, String token) {
    }

    /** The client's file as the environment places it. */
    static ClientHome of(Map<String, String> env) {
        if (present(env.get("DEPLOYER_CONFIG"))) {
            return new ClientHome(Path.of(env.get("DEPLOYER_CONFIG")).toAbsolutePath().normalize(),
                    "DEPLOYER_CONFIG");
        }
        if (present(env.get("XDG_CONFIG_HOME"))) {
            return new ClientHome(Path.of(env.get("XDG_CONFIG_HOME")).resolve("deployer").resolve(FILE)
                    .toAbsolutePath().normalize(), "XDG_CONFIG_HOME");
        }
        if (present(env.get("HOME"))) {
            return new ClientHome(Path.of(env.get("HOME")).resolve(".config").resolve("deployer").resolve(FILE)
                    .toAbsolutePath().normalize(), "HOME");
        }
        return new ClientHome(null, "no HOME, XDG_CONFIG_HOME or DEPLOYER_CONFIG in the environment");
    }

    /**
     * What the file holds; null when there is no file. A file that is there but cannot be used is an error that
     * names it, never silently skipped: the user wrote it on purpose, with {@code login}.
     */
    Login read() {
        if (file == null || !Files.isRegularFile(file)) {
            return null;
        }
        Object json;
        try {
            json = Json.parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw CliFailure.usage(file + " is not readable JSON (" + firstLine(e.getMessage())
                    + "); `deployer login URL` writes it again, `deployer logout` removes it");
        }
        if (json instanceof Map<?, ?> map && map.get("server") instanceof String server && !server.isBlank()) {
            Object token = map.get("token");
            return new Login(server, token instanceof String t && !t.isBlank() ? t : null);
        }
        throw CliFailure.usage(file + " has no \"server\"; `deployer login URL` writes it again");
    }

    /** Keeps server and token, owner-only; nothing is half-written: a new file is moved over the old one. */
    Path write(Login login) throws IOException {
        Path target = require();
        Path folder = target.getParent();
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder);
            if (posix) {
                Files.setPosixFilePermissions(folder, OWNER_FOLDER);
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("server", login.server());
        json.put("token", login.token());
        Path temporary = posix
                ? Files.createTempFile(folder, ".client-", ".json", PosixFilePermissions.asFileAttribute(OWNER_FILE))
                : Files.createTempFile(folder, ".client-", ".json");
        try {
            Files.writeString(temporary, Json.writeString(json) + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
        return target;
    }

    /** Removes the file; whether there was one. */
    boolean delete() throws IOException {
        return file != null && Files.deleteIfExists(file);
    }

    private Path require() {
        if (file == null) {
            throw CliFailure.usage("cannot tell where to keep the login: " + source
                    + "; set DEPLOYER_CONFIG to a file path");
        }
        return file;
    }

    private static String firstLine(String text) {
        return text == null ? "" : text.lines().findFirst().orElse("");
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }
}
