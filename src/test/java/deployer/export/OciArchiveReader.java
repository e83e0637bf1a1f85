package deployer.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * An OCI image archive read back by hand, as a registry or {@code podman load} would: {@code oci-layout},
 * {@code index.json} → manifest → config and layers, every blob checked against its digest, every layer's
 * uncompressed digest against the config's {@code diff_ids}.
 */
public final class OciArchiveReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, byte[]> blobs;
    private final String manifestDigest;
    private final String refName;
    private final JsonNode manifest;
    private final JsonNode config;

    private OciArchiveReader(Map<String, byte[]> files) throws IOException {
        if (!files.containsKey("oci-layout")) {
            throw new AssertionError("no oci-layout file: " + files.keySet());
        }
        this.blobs = new HashMap<>();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            if (file.getKey().startsWith("blobs/sha256/")) {
                String digest = "sha256:" + file.getKey().substring("blobs/sha256/".length());
                if (!digest.equals(sha256(file.getValue()))) {
                    throw new AssertionError("blob " + file.getKey() + " does not match its digest");
                }
                blobs.put(digest, file.getValue());
            }
        }
        JsonNode index = JSON.readTree(files.get("index.json"));
        JsonNode entry = index.path("manifests").path(0);
        this.manifestDigest = entry.path("digest").asText();
        this.refName = entry.path("annotations").path("org.opencontainers.image.ref.name").asText();
        this.manifest = JSON.readTree(blob(manifestDigest, entry.path("size").asLong()));
        JsonNode configRef = manifest.path("config");
        this.config = JSON.readTree(blob(configRef.path("digest").asText(), configRef.path("size").asLong()));
        JsonNode diffIds = config.path("rootfs").path("diff_ids");
        JsonNode layers = manifest.path("layers");
        for (int i = 0; i < layers.size(); i++) {
            byte[] plain = gunzip(layer(i));
            if (!sha256(plain).equals(diffIds.path(i).asText())) {
                throw new AssertionError("layer " + i + " does not match its diff_id");
            }
        }
    }

    public static OciArchiveReader read(Path archive) throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(Files.newInputStream(archive))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                if (e.isFile()) {
                    files.put(e.getName(), tar.readAllBytes());
                }
            }
        }
        return new OciArchiveReader(files);
    }

    public String manifestDigest() {
        return manifestDigest;
    }

    public String refName() {
        return refName;
    }

    public List<String> entrypoint() {
        List<String> out = new ArrayList<>();
        config.path("config").path("Entrypoint").forEach(n -> out.add(n.asText()));
        return out;
    }

    public List<String> exposedPorts() {
        List<String> out = new ArrayList<>();
        config.path("config").path("ExposedPorts").fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** The files of each layer, in order, as paths without the leading slash. */
    public List<List<String>> layerFiles() throws IOException {
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < manifest.path("layers").size(); i++) {
            List<String> names = new ArrayList<>();
            try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(gunzip(layer(i))))) {
                for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                    if (e.isFile()) {
                        names.add(e.getName().replaceFirst("^/", ""));
                    }
                }
            }
            out.add(names);
        }
        return out;
    }

    /** Unpacks every layer, in order, into {@code root}, as a container runtime lays out the image's file system. */
    public Path unpack(Path root) throws IOException {
        for (int i = 0; i < manifest.path("layers").size(); i++) {
            try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(gunzip(layer(i))))) {
                for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                    Path target = root.resolve(e.getName().replaceFirst("^/", "")).normalize();
                    if (!target.startsWith(root)) {
                        throw new AssertionError("layer entry outside the root: " + e.getName());
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                    } else if (e.isFile()) {
                        Files.createDirectories(target.getParent());
                        Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        return root;
    }

    private byte[] layer(int i) {
        JsonNode layer = manifest.path("layers").path(i);
        return blob(layer.path("digest").asText(), layer.path("size").asLong());
    }

    private byte[] blob(String digest, long size) {
        byte[] bytes = blobs.get(digest);
        if (bytes == null) {
            throw new AssertionError("no blob " + digest);
        }
        if (bytes.length != size) {
            throw new AssertionError("blob " + digest + " is " + bytes.length + " bytes, its descriptor says " + size);
        }
        return bytes;
    }

    private static byte[] gunzip(byte[] bytes) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
