"""Packing a model folder the way the Java client does (DESIGN 1.5): deploy.json first, then exactly the files
that its "files" globs mark deployable, matched like java.nio.file.PathMatcher globs against the path relative to
the folder ("model/*" is the files directly in model/, "model/**" every file below it). The zip is written to a
temporary file, never held in memory."""

import json
import os
import re
import tempfile
import zipfile

MANIFEST = "deploy.json"
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
# Already compressed: stored as they are rather than deflated a second time (as the Java client does).
STORED = {"jar", "zip", "gz", "tgz", "xz", "bz2", "zst", "png", "jpg", "jpeg"}


class PackError(ValueError):
    """The folder cannot be packed: no deploy.json, or one that is not valid."""


def glob_regex(glob):
    """A compiled regular expression that matches what PathMatcher's "glob:" syntax matches."""
    out = []
    i = 0
    in_group = False
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        elif c == "[":
            end = glob.find("]", i + 1)
            if end < 0:
                raise PackError("files pattern '%s' is not a glob: missing ']'" % glob)
            body = glob[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "{" and not in_group:
            out.append("(?:")
            in_group = True
        elif c == "}" and in_group:
            out.append(")")
            in_group = False
        elif c == "," and in_group:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if in_group:
        raise PackError("files pattern '%s' is not a glob: missing '}'" % glob)
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def read_manifest(folder):
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        raise PackError("%s has no %s; `deployer new NAME --template basic` makes a folder that has one"
                        % (os.path.normpath(folder), MANIFEST))
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise PackError("%s: not valid JSON: %s" % (path, e))
    if not isinstance(manifest, dict):
        raise PackError("%s: must be a JSON object" % path)
    name = manifest.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PackError("%s: \"name\" must match %s" % (path, NAME.pattern))
    files = manifest.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise PackError("%s: \"files\" must be an array of glob patterns" % path)
    return manifest


def _walk(folder):
    """Every regular file below the folder (links to files count; links to folders are not followed), sorted."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for f in files:
            full = os.path.join(root, f)
            if os.path.isfile(full):
                found.append(os.path.relpath(full, folder).replace(os.sep, "/"))
    return sorted(found, key=lambda n: n.encode("utf-8"))


class Packed:
    """What was packed: the manifest, the temporary zip (the caller deletes it), the names sent and left out."""

    def __init__(self, manifest, archive, packed, left_out, unmatched, size):
        self.manifest = manifest
        self.archive = archive
        self.packed = packed
        self.left_out = left_out
        self.unmatched = unmatched
        self.size = size

    def report(self):
        """The lines the Java client prints about a pack, word for word."""
        lines = ["packed %s (%s): %s" % (count(len(self.packed), "file"), human(self.size), names(self.packed))]
        if self.left_out:
            lines.append("left out %s not marked deployable by \"files\": %s"
                         % (count(len(self.left_out), "file"), names(self.left_out)))
        if not self.manifest.get("files"):
            lines.append("warning: deploy.json has no \"files\", so only deploy.json is sent; add e.g. "
                         "\"files\": [\"serving/*.java\", \"model/*\", \"lib/*.jar\"]")
        for pattern in self.unmatched:
            lines.append("warning: \"files\" pattern '%s' matches no file" % pattern)
        return lines


def select(folder, manifest):
    """(packed, left_out, unmatched) for the folder's files under the manifest's globs."""
    patterns = [(glob, glob_regex(glob)) for glob in manifest.get("files", [])]
    packed = [MANIFEST]
    left_out = []
    unmatched = [glob for glob, _ in patterns]
    for name in _walk(folder):
        if name == MANIFEST:
            continue
        deployable = False
        for glob, regex in patterns:
            if regex.match(name):
                deployable = True
                if glob in unmatched:
                    unmatched.remove(glob)
        (packed if deployable else left_out).append(name)
    return packed, left_out, unmatched


def pack(folder):
    """Packs the folder into a new temporary zip; returns a Packed."""
    manifest = read_manifest(folder)
    packed, left_out, unmatched = select(folder, manifest)
    fd, archive = tempfile.mkstemp(prefix="deployer-%s-" % manifest["name"], suffix=".zip")
    size = 0
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
            for name in packed:
                source = os.path.join(folder, name)
                method = zipfile.ZIP_STORED if name.rsplit(".", 1)[-1].lower() in STORED else zipfile.ZIP_DEFLATED
                z.write(source, name, compress_type=method)
                size += os.path.getsize(source)
    except BaseException:
        os.unlink(archive)
        raise
    return Packed(manifest, archive, packed, left_out, unmatched, size)


def count(n, noun):
    return "%d %s%s" % (n, noun, "" if n == 1 else "s")


def names(items):
    shown = items[:12]
    text = ", ".join(shown)
    return text + (" … and %d more" % (len(items) - 12) if len(items) > 12 else "")


def human(size):
    if size < 1024:
        return "%d B" % size
    if size < 1024 * 1024:
        return "%.1f KiB" % (size / 1024.0)
    if size < 1024 ** 3:
        return "%.1f MiB" % (size / (1024.0 * 1024))
    return "%.2f GiB" % (size / (1024.0 ** 3))
