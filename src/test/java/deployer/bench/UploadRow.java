package deployer.bench;

import deployer.BenchFixtures;
import deployer.core.FileTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/**
 * Row 4: upload to READY of a big package, the server capped at 256 MiB of heap, against {@code cp} and
 * {@code unzip} of the same archive on the same disk.
 */
final class UploadRow {

    private static final Pattern GC = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");
    private static final int HEAP_CAP_MB = 256;

    private final Options options;

    UploadRow(Options options) {
        this.options = options;
    }

    void run(Table table) throws Exception {
        Path work = Files.createDirectories(options.work().resolve("upload"));
        try {
            Path archive = work.resolve("big.zip");
            writeArchive(work, archive, options.packageBytes());
            String size = Table.mib(Files.size(archive));

            Path copy = Files.createDirectories(work.resolve("copy"));
            long start = System.nanoTime();
            shell("cp '" + archive + "' '" + copy.resolve("big.zip") + "' && unzip -q '" + copy.resolve("big.zip")
                    + "' -d '" + copy.resolve("out") + "'");
            double copyMs = (System.nanoTime() - start) / 1e6;
            FileTrees.delete(copy);

            Path data = work.resolve("data");
            Path gcLog = work.resolve("gc.log");
            double uploadMs;
            boolean alive;
            try (Child server = Child.deployer(options, List.of("-Xmx" + HEAP_CAP_MB + "m",
                    "-Xlog:gc:file=" + gcLog), List.of("serve", "--port", "0", "--data", data.toString(), "--token",
                    Api.TOKEN, "--cell-ports", "0"), work.resolve("server.log"))) {
                int port = server.awaitPortFile(data.resolve("server.port"), 60_000);
                Api api = new Api(java.net.URI.create("http://127.0.0.1:" + port));
                start = System.nanoTime();
                api.deploy(archive, 900);
                uploadMs = (System.nanoTime() - start) / 1e6;
                alive = server.alive();
            }
            long peak = heapPeakMb(gcLog);
            double speed = copyMs / uploadMs;
            table.add(new Table.Row(4, "upload → READY of a " + size + " package, server at -Xmx" + HEAP_CAP_MB
                    + "m", Table.millis(uploadMs) + " (" + mbps(Files.exists(archive) ? Files.size(archive) : 0,
                    uploadMs) + "); heap peak " + peak + " MiB of " + HEAP_CAP_MB, "`cp` + `unzip` on the same disk: "
                    + Table.millis(copyMs), "speed " + Table.ratio(speed), "≥ 0.5× the speed; heap under the cap",
                    Table.met(speed >= 0.5 && peak < HEAP_CAP_MB && alive)));
        } finally {
            FileTrees.delete(work);
        }
    }

    /** deploy.json, the trivial model's jar, and {@code bytes} of random (incompressible) data, stored. */
    private static void writeArchive(Path work, Path archive, long bytes) throws IOException {
        Map<String, byte[]> files = BenchFixtures.trivialFiles(work, "big");
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(archive)) {
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                zip.putArchiveEntry(new ZipArchiveEntry(file.getKey()));
                zip.write(file.getValue());
                zip.closeArchiveEntry();
            }
            ZipArchiveEntry blob = new ZipArchiveEntry("model/blob.bin");
            blob.setMethod(ZipArchiveEntry.STORED);
            zip.putArchiveEntry(blob);
            SplittableRandom random = new SplittableRandom(7);
            byte[] block = new byte[1 << 20];
            java.nio.ByteBuffer longs = java.nio.ByteBuffer.wrap(block);
            for (long left = bytes; left > 0; left -= block.length) {
                longs.clear();
                while (longs.hasRemaining()) {
                    longs.putLong(random.nextLong());
                }
                zip.write(block, 0, (int) Math.min(block.length, left));
            }
            zip.closeArchiveEntry();
        }
    }

    /** The most heap in use before any collection, from a {@code -Xlog:gc} file. */
    static long heapPeakMb(Path gcLog) throws IOException {
        long peak = 0;
        if (Files.exists(gcLog)) {
            Matcher m = GC.matcher(Files.readString(gcLog, StandardCharsets.UTF_8));
            while (m.find()) {
                peak = Math.max(peak, Long.parseLong(m.group(1)));
            }
        }
        return peak;
    }

    private static String mbps(long bytes, double ms) {
        return String.format(java.util.Locale.ROOT, "%.0f MiB/s", bytes / 1048576.0 / (ms / 1000));
    }

    static void shell(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("`" + script + "` failed: " + out);
        }
    }
}
