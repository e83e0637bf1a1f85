package deployer.pack;

import deployer.core.DeployerException;
import java.util.regex.Pattern;

/**
 * The one rule for a path inside a package, shared by archive entries and the filenames of {@code file} parts. A path
 * is plain, relative and {@code /}-separated; anything a file system could read as something else is refused rather
 * than repaired, because a repaired path is a path the user did not send.
 */
final class PackagePath {

    /** The server writes compiled classes here, so a package must not bring its own. */
    static final String RESERVED = ".deployer";

    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*", Pattern.DOTALL);

    private PackagePath() {
    }

    /**
     * Checks one entry name.
     *
     * @param raw the name as the archive or the part header holds it
     * @param directory true for a folder entry, which may end in one {@code /}
     * @return the name without its leading {@code ./} (and a folder's trailing {@code /}); empty for the package root
     * @throws DeployerException BAD_REQUEST naming the entry and the rule it breaks
     */
    static String check(String raw, boolean directory) {
        if (raw == null || raw.isEmpty()) {
            throw refuse("", "has no name");
        }
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw refuse(raw, "has a control character in its name");
            }
        }
        if (raw.indexOf('\\') >= 0) {
            throw refuse(raw, "has a backslash; separate folders with '/'");
        }
        if (raw.startsWith("/")) {
            throw refuse(raw, "is an absolute path; paths must be relative to the package root");
        }
        if (DRIVE.matcher(raw).matches()) {
            throw refuse(raw, "names a drive; paths must be relative to the package root");
        }
        // "tar -C dir ." writes every name as ./name, and the root itself as ./
        String path = raw.startsWith("./") ? raw.substring(2) : raw;
        if (directory && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.isEmpty()) {
            if (directory) {
                return "";
            }
            throw refuse(raw, "has no file name");
        }
        String[] segments = path.split("/", -1);
        for (String segment : segments) {
            if (segment.isEmpty()) {
                throw refuse(raw, "has an empty folder name ('//' or a trailing '/')");
            }
            if (segment.equals("..")) {
                throw refuse(raw, "leaves the package folder");
            }
            if (segment.equals(".")) {
                throw refuse(raw, "has a '.' folder in its path");
            }
        }
        if (segments[0].equals(RESERVED)) {
            throw refuse(raw, "is inside " + RESERVED + "/, which the server keeps for itself");
        }
        return path;
    }

    /** The entry's name for a message: quoted, control characters escaped, cut short if long. */
    static String quote(String raw) {
        StringBuilder shown = new StringBuilder("'");
        for (int i = 0; i < raw.length() && i < 200; i++) {
            char c = raw.charAt(i);
            shown.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return shown.append(raw.length() > 200 ? "...'" : "'").toString();
    }

    static DeployerException refuse(String raw, String rule) {
        return DeployerException.badRequest("entry " + quote(raw) + " " + rule);
    }
}
