package deployer.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * Builds package archives for tests, good and hostile. Entry names are written exactly as given (no
 * normalization), so a test can send {@code ../evil} or {@code /etc/passwd}; a name ending in {@code /} is a folder.
 */
public final class Packages {

    private Packages() {
    }

    /** The bytes of a deploy.json, UTF-8. */
    public static byte[] manifest(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    /** A package with deploy.json naming {@code example.EchoModel}, whose score answers {@code {"echo": input}}. */
    public static Map<String, byte[]> echoPackage(String name) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("deploy.json", manifest("{\"name\": \"" + name + "\", \"entry\": \"example.EchoModel\"}"));
        entries.put("serving/EchoModel.java", manifest("""
                package example;

                import deployer.spi.Model;
                import deployer.spi.ModelContext;
                import java.util.Map;

                public class EchoModel implements Model {
                    @Override
                    public void load(ModelContext context) {
                    }

                    @Override
                    public Object score(Object input) {
                        return Map.of("echo", input);
                    }
                }
                """));
        return entries;
    }

    /** A zip of the entries, deflated, in the map's order. */
    public static byte[] zip(Map<String, byte[]> entries) {
        return zip(out -> {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                zipEntry(out, new ZipArchiveEntry(entry.getKey()), entry.getValue());
            }
        });
    }

    /** A tar.gz of the entries, in the map's order. */
    public static byte[] tarGz(Map<String, byte[]> entries) {
        return tarGz(out -> {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                tarEntry(out, new TarArchiveEntry(entry.getKey(), true), entry.getValue());
            }
        });
    }

    /** A zip holding deploy.json and a unix symbolic link {@code name -> target}. */
    public static byte[] zipWithSymlink(String name, String target) {
        return zip(out -> {
            zipEntry(out, new ZipArchiveEntry("deploy.json"), manifest("{\"name\": \"evil\"}"));
            ZipArchiveEntry link = new ZipArchiveEntry(name);
            link.setUnixMode(0120777);
            zipEntry(out, link, target.getBytes(StandardCharsets.UTF_8));
        });
    }

    /** A zip holding deploy.json and the entry {@code name} twice. */
    public static byte[] zipWithDuplicate(String name) {
        return zip(out -> {
            zipEntry(out, new ZipArchiveEntry("deploy.json"), manifest("{\"name\": \"dup\"}"));
            zipEntry(out, new ZipArchiveEntry(name), manifest("first"));
            zipEntry(out, new ZipArchiveEntry(name), manifest("second"));
        });
    }

    /** A tar.gz holding deploy.json and the entry {@code name} twice. */
    public static byte[] tarGzWithDuplicate(String name) {
        return tarGz(out -> {
            tarEntry(out, new TarArchiveEntry("deploy.json", true), manifest("{\"name\": \"dup\"}"));
            tarEntry(out, new TarArchiveEntry(name, true), manifest("first"));
            tarEntry(out, new TarArchiveEntry(name, true), manifest("second"));
        });
    }

    /** A tar.gz holding deploy.json and a symbolic link {@code name -> target}. */
    public static byte[] tarGzWithSymlink(String name, String target) {
        return tarGzWithLink(name, target, TarConstants.LF_SYMLINK);
    }

    /** A tar.gz holding deploy.json and a hard link {@code name -> target}. */
    public static byte[] tarGzWithHardLink(String name, String target) {
        return tarGzWithLink(name, target, TarConstants.LF_LINK);
    }

    /** A tar.gz holding deploy.json and an entry of the given tar type flag, e.g. {@link TarConstants#LF_FIFO}. */
    public static byte[] tarGzWithSpecial(String name, byte typeFlag) {
        return tarGzWithLink(name, "", typeFlag);
    }

    /** A zip holding deploy.json and {@code name}: {@code zeroBytes} zeros, deflated to a few kilobytes. */
    public static byte[] zipBomb(String name, long zeroBytes) {
        return zip(out -> {
            zipEntry(out, new ZipArchiveEntry("deploy.json"), manifest("{\"name\": \"bomb\"}"));
            ZipArchiveEntry bomb = new ZipArchiveEntry(name);
            bomb.setMethod(ZipArchiveEntry.DEFLATED);
            out.putArchiveEntry(bomb);
            writeZeros(out, zeroBytes);
            out.closeArchiveEntry();
        });
    }

    /** A tar.gz holding deploy.json and {@code name}: {@code zeroBytes} zeros, which gzip to a few kilobytes. */
    public static byte[] tarGzBomb(String name, long zeroBytes) {
        return tarGz(out -> {
            tarEntry(out, new TarArchiveEntry("deploy.json", true), manifest("{\"name\": \"bomb\"}"));
            TarArchiveEntry bomb = new TarArchiveEntry(name, true);
            bomb.setSize(zeroBytes);
            out.putArchiveEntry(bomb);
            writeZeros(out, zeroBytes);
            out.closeArchiveEntry();
        });
    }

    private static byte[] tarGzWithLink(String name, String target, byte typeFlag) {
        return tarGz(out -> {
            tarEntry(out, new TarArchiveEntry("deploy.json", true), manifest("{\"name\": \"evil\"}"));
            TarArchiveEntry link = new TarArchiveEntry(name, typeFlag, true);
            link.setLinkName(target);
            out.putArchiveEntry(link);
            out.closeArchiveEntry();
        });
    }

    private interface Writer<T> {
        void write(T out) throws IOException;
    }

    private static byte[] zip(Writer<ZipArchiveOutputStream> body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream out = new ZipArchiveOutputStream(bytes)) {
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static byte[] tarGz(Writer<TarArchiveOutputStream> body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void zipEntry(ZipArchiveOutputStream out, ZipArchiveEntry entry, byte[] content)
            throws IOException {
        out.putArchiveEntry(entry);
        if (!entry.isDirectory()) {
            out.write(content);
        }
        out.closeArchiveEntry();
    }

    private static void tarEntry(TarArchiveOutputStream out, TarArchiveEntry entry, byte[] content)
            throws IOException {
        if (!entry.isDirectory()) {
            entry.setSize(content.length);
        }
        out.putArchiveEntry(entry);
        if (!entry.isDirectory()) {
            out.write(content);
        }
        out.closeArchiveEntry();
    }

    private static void writeZeros(OutputStream out, long count) throws IOException {
        byte[] zeros = new byte[64 * 1024];
        for (long left = count; left > 0; left -= zeros.length) {
            out.write(zeros, 0, (int) Math.min(zeros.length, left));
        }
    }
}
