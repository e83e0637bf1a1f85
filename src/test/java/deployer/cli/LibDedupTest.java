package deployer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.core.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * Jars are kept once per server by SHA-256 (DESIGN 1.9): the client asks first and sends only what the server
 * lacks, and the server links each version's jars to its one copy.
 */
class LibDedupTest extends CliTest {

    static final int JAR_BYTES = 3 << 20;

    @Test
    void secondUploadOfAPackageWithTheSameJarsSendsAndStoresOnlyTheNewBytes() throws Exception {
        Path folder = packageWithJar(work.resolve("dedup"), "dedup", 1);

        Cli.Run first = cli.run(server.with("deploy", folder.toString(), "--json"));
        assertThat(first.exit()).as(first.toString()).isZero();
        Files.writeString(folder.resolve("model/version.txt"), "2");
        Cli.Run second = cli.run(server.with("deploy", folder.toString(), "--json"));
        assertThat(second.exit()).as(second.toString()).isZero();

        long sentFirst = sent(first.err());
        long sentSecond = sent(second.err());
        assertThat(sentFirst).isGreaterThan(JAR_BYTES * 9L / 10);
        assertThat(sentSecond).as(second.err()).isLessThan(sentFirst / 100);
        assertThat(second.err()).contains("already on the server");
        Map<?, ?> v1 = deployment(first.out());
        Map<?, ?> v2 = deployment(second.out());
        assertThat((Long) v2.get("size")).isLessThan((Long) v1.get("size") / 100);

        // on disk: one kept copy, and both versions' lib/big.jar are that very file
        Path kept = onlyKeptJar("dedup-" + sha(folder.resolve("lib/big.jar")));
        for (Map<?, ?> v : List.of(v1, v2)) {
            Path jar = server.data.resolve("models/dedup/" + v.get("deploy_id") + "/lib/big.jar");
            assertThat(Files.isSameFile(jar, kept)).as(jar.toString()).isTrue();
        }
        assertThat(server.predict("dedup", "{}").body()).contains("\"version\":2");
    }

    @Test
    void archiveSentWholeIsDeduplicatedByTheServer() throws Exception {
        Path folder = packageWithJar(work.resolve("whole"), "whole", 7);
        Path zip = work.resolve("whole.zip");
        zip(folder, zip);

        Cli.Run first = cli.run(server.with("deploy", zip.toString(), "--json"));
        Cli.Run second = cli.run(server.with("deploy", zip.toString(), "--json"));

        assertThat(first.exit()).as(first.toString()).isZero();
        assertThat(second.exit()).as(second.toString()).isZero();
        Path kept = onlyKeptJar("whole-" + sha(folder.resolve("lib/big.jar")));
        for (String out : List.of(first.out(), second.out())) {
            Path jar = server.data.resolve("models/whole/" + deployment(out).get("deploy_id") + "/lib/big.jar");
            assertThat(Files.isSameFile(jar, kept)).isTrue();
        }
    }

    @Test
    void missingCallNeedsTheTokenAndChecksTheHashes() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create(server.url() + "/api/libs/missing");
        String unknown = "0".repeat(64);

        HttpResponse<String> noToken = http.send(HttpRequest.newBuilder(uri)
                .POST(HttpRequest.BodyPublishers.ofString("{\"sha256\": []}")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> asked = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer "
                + CliServer.TOKEN).POST(HttpRequest.BodyPublishers.ofString("{\"sha256\": [\"" + unknown + "\"]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> bad = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer "
                + CliServer.TOKEN).POST(HttpRequest.BodyPublishers.ofString("{\"sha256\": [\"xyz\"]}")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(noToken.statusCode()).isEqualTo(401);
        assertThat(asked.statusCode()).isEqualTo(200);
        assertThat(Json.parse(asked.body().getBytes(StandardCharsets.UTF_8))).isEqualTo(
                Map.of("missing", List.of(unknown)));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("SHA-256");
    }

    /** A package: an echo script, a model file, and lib/big.jar (random, stored, so it does not compress). */
    private static Path packageWithJar(Path folder, String name, long seed) throws IOException {
        Files.createDirectories(folder.resolve("serving"));
        Files.createDirectories(folder.resolve("model"));
        Files.createDirectories(folder.resolve("lib"));
        Files.writeString(folder.resolve("deploy.json"), "{\"name\": \"" + name + "\", \"entry\": \"example.Echo\","
                + " \"files\": [\"serving/*.java\", \"model/*\", \"lib/*.jar\"]}");
        Files.writeString(folder.resolve("serving/Echo.java"), """
                package example;
                public class Echo implements deployer.spi.Model {
                    private String version;
                    public void load(deployer.spi.ModelContext c) throws Exception {
                        version = java.nio.file.Files.readString(c.directory().resolve("model/version.txt"));
                    }
                    public Object score(Object input) {
                        return java.util.Map.of("version", Integer.parseInt(version.trim()));
                    }
                }
                """);
        Files.writeString(folder.resolve("model/version.txt"), "1");
        byte[] random = new byte[JAR_BYTES];
        new Random(seed).nextBytes(random);
        // a name of its own per test: the server is shared by the test class
        random[0] = (byte) name.hashCode();
        try (OutputStream file = Files.newOutputStream(folder.resolve("lib/big.jar"));
             JarOutputStream jar = new JarOutputStream(file)) {
            ZipEntry entry = new ZipEntry("weights.bin");
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(random.length);
            CRC32 crc = new CRC32();
            crc.update(random);
            entry.setCrc(crc.getValue());
            jar.putNextEntry(entry);
            jar.write(random);
            jar.closeEntry();
        }
        return folder;
    }

    private static void zip(Path folder, Path zip) throws IOException {
        try (OutputStream file = Files.newOutputStream(zip);
             java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(file);
             Stream<Path> walk = Files.walk(folder)) {
            for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new ZipEntry(folder.relativize(f).toString()));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }

    /** The bytes the client says it sent: "sent 14 KiB of 89 MiB (…)", back to a number of bytes (±1 unit). */
    private static long sent(String err) {
        Matcher m = Pattern.compile("sent ([0-9.]+) (B|KiB|MiB|GiB) of").matcher(err);
        assertThat(m.find()).as(err).isTrue();
        double value = Double.parseDouble(m.group(1));
        int shift = switch (m.group(2)) {
            case "B" -> 0;
            case "KiB" -> 10;
            case "MiB" -> 20;
            default -> 30;
        };
        return (long) (value * (1L << shift));
    }

    private static Map<?, ?> deployment(String out) throws IOException {
        Map<?, ?> d = (Map<?, ?>) Json.parse(out.getBytes(StandardCharsets.UTF_8));
        assertThat(d.get("state")).as(out).isEqualTo("READY");
        return d;
    }

    /** The one kept jar of this test's bytes in {@code <data>/libs}. */
    private static Path onlyKeptJar(String label) throws IOException {
        String sha = label.substring(label.indexOf('-') + 1);
        try (Stream<Path> kept = Files.list(server.data.resolve("libs"))) {
            List<Path> mine = kept.filter(p -> p.getFileName().toString().equals(sha + ".jar")).toList();
            assertThat(mine).as(label).hasSize(1);
            return mine.get(0);
        }
    }

    private static String sha(Path file) {
        return deployer.pack.LibStore.sha256(file);
    }
}
