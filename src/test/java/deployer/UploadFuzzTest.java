package deployer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/**
 * A seeded fuzz of the upload: valid zip and tar.gz packages and multipart forms, mutated byte by byte and frame by
 * frame, plus plain noise. Bounded in time and count. Whatever arrives, the server answers below 500, keeps answering,
 * leaves nothing in staging, and every row it recorded has its folder (and every folder its row). The seed is fixed,
 * so a failure replays; the tally of statuses goes into the assertion message.
 */
class UploadFuzzTest extends ServerTest {

    static final long SEED = 0x6465706c6f796572L;
    static final int MAX_CASES = 600;
    static final Duration BUDGET = Duration.ofSeconds(15);

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Override
    Settings settings(Settings defaults) {
        return defaults.withMaxUploadMb(1);
    }

    @Test
    void mutatedUploadsNeverGet5xxNorLeaveAnythingBehind() throws Exception {
        Random random = new Random(SEED);
        Map<String, Integer> tally = new TreeMap<>();
        long deadline = System.nanoTime() + BUDGET.toNanos();
        int cases = 0;
        while (cases < MAX_CASES && System.nanoTime() < deadline) {
            cases++;
            Case c = nextCase(random);
            String outcome;
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri("/api/deployments"))
                        .timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + TestServer.TOKEN)
                        .header("Content-Type", c.contentType())
                        .POST(HttpRequest.BodyPublishers.ofByteArray(c.body())).build(),
                        HttpResponse.BodyHandlers.ofString());
                outcome = String.valueOf(r.statusCode());
                assertThat(r.statusCode()).as("case %d (%s): %s", cases, c.kind(), r.body()).isLessThan(500);
                assertThat(server.staging()).as("staging after case %d (%s)", cases, c.kind()).isEmpty();
            } catch (IOException e) {
                // The server may answer and close before it read a broken body; the checks below still hold.
                outcome = "closed";
            }
            tally.merge(c.kind() + " " + outcome, 1, Integer::sum);
        }

        String summary = cases + " cases: " + tally;
        assertThat(cases).as(summary).isGreaterThanOrEqualTo(100);
        assertThat(server.get("/api/models").status()).as(summary).isEqualTo(200);
        assertThat(Eventually.get(() -> stagingEmpty(), empty -> empty)).isTrue();
        assertEveryRowHasItsFolderAndEveryFolderItsRow(summary);
    }

    private boolean stagingEmpty() {
        try {
            return server.staging().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private void assertEveryRowHasItsFolderAndEveryFolderItsRow(String summary) throws IOException {
        Set<Path> rows = new HashSet<>();
        for (Object line : server.get("/api/models").list()) {
            String name = (String) TestServer.asMap(line).get("name");
            List<?> versions = (List<?>) server.get("/api/models/" + name).object().get("versions");
            for (Object v : versions) {
                rows.add(data.resolve("models").resolve(name).resolve(String.valueOf(TestServer.asMap(v)
                        .get("deploy_id"))));
            }
        }
        Set<Path> folders = new HashSet<>();
        Path models = data.resolve("models");
        if (Files.isDirectory(models)) {
            try (Stream<Path> names = Files.list(models)) {
                for (Path model : names.toList()) {
                    try (Stream<Path> ids = Files.list(model)) {
                        ids.forEach(folders::add);
                    }
                }
            }
        }
        assertThat(folders).as(summary).isEqualTo(rows);
    }

    record Case(String kind, String contentType, byte[] body) {
    }

    /** One request: a valid package or form, mutated in one of several ways, or noise. */
    private static Case nextCase(Random random) {
        int pick = random.nextInt(10);
        return switch (pick) {
            case 0, 1, 2 -> packageCase("zip", mutate(Packages.zip(files(random)), random), random);
            case 3, 4 -> packageCase("tar.gz", mutate(Packages.tarGz(files(random)), random), random);
            case 5, 6 -> framingCase(random);
            case 7 -> formCase(random);
            case 8 -> new Case("noise", Multipart.contentType(), noise(random, random.nextInt(4096)));
            default -> new Case("valid", Multipart.contentType(),
                    new Multipart().file("package", "p.zip", Packages.zip(files(random))).build());
        };
    }

    private static Map<String, byte[]> files(Random random) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        // The entry class is absent: a package that survives its mutation becomes a row whose cell fails fast.
        String[] manifests = {
            "{\"name\": \"fuzz\", \"entry\": \"example.Missing\"}",
            "{\"name\": \"fuzz\", \"entry\": \"example.Missing\", \"limits\": {\"timeout_ms\": 100}}",
            "{\"name\": \"fuzz-" + random.nextInt(3) + "\", \"entry\": \"example.Missing\", \"properties\": {}}",
            "{\"name\": \"fuzz\"}",
        };
        files.put("deploy.json", manifests[random.nextInt(manifests.length)].getBytes(UTF_8));
        files.put("model/weights.bin", noise(random, random.nextInt(2048)));
        if (random.nextBoolean()) {
            files.put("model/sub/", new byte[0]);
            files.put("model/sub/notes.txt", "some notes".getBytes(UTF_8));
        }
        return files;
    }

    private static Case packageCase(String type, byte[] archive, Random random) {
        String filename = random.nextBoolean() ? "p." + type : randomText(random, 1 + random.nextInt(40));
        return new Case(type, Multipart.contentType(), new Multipart().file("package", filename, archive).build());
    }

    /** A valid upload whose multipart framing (boundaries, headers, CRLFs, Content-Type) is damaged. */
    private static Case framingCase(Random random) {
        byte[] body = new Multipart().file("package", "p.zip", Packages.zip(files(random))).build();
        String contentType = Multipart.contentType();
        switch (random.nextInt(6)) {
            case 0 -> body = mutateRange(body, 0, Math.min(body.length, 200), random);
            case 1 -> body = mutateRange(body, Math.max(0, body.length - 80), body.length, random);
            case 2 -> body = replace(body, "\r\n", random.nextBoolean() ? "\n" : "");
            case 3 -> contentType = new String[] {"multipart/form-data", "multipart/form-data; boundary=",
                "multipart/form-data; boundary=other", "multipart/mixed; boundary=" + Multipart.BOUNDARY,
                "MULTIPART/FORM-DATA; BOUNDARY=" + Multipart.BOUNDARY, "application/zip",
                "multipart/form-data; boundary=\"" + Multipart.BOUNDARY + "\"; charset=utf-8",
                "multipart/form-data; boundary=" + "x".repeat(5000)}[random.nextInt(8)];
            case 4 -> body = Arrays.copyOf(body, random.nextInt(body.length));
            default -> body = replace(body, "--" + Multipart.BOUNDARY + "--", "--" + Multipart.BOUNDARY);
        }
        return new Case("framing", contentType, body);
    }

    /** A parts form (manifest + files) with random field names, filenames and contents. */
    private static Case formCase(Random random) {
        Multipart form = new Multipart();
        int parts = 1 + random.nextInt(12);
        String[] fields = {"manifest", "file", "file", "package", "other", ""};
        String[] names = {"model/w.bin", "../x", "/abs", "a//b", "model/./x", ".deployer/classes/X.class",
            "deploy.json", "C:\\x", "model/" + "d".repeat(300), "serving/X.java", "lib/a.jar", "model/x\u0001"};
        for (int i = 0; i < parts; i++) {
            String field = fields[random.nextInt(fields.length)];
            byte[] content = random.nextInt(3) == 0 ? "{\"name\": \"fuzz\", \"entry\": \"x.Y\"}".getBytes(UTF_8)
                    : noise(random, random.nextInt(512));
            if (random.nextBoolean()) {
                form.field(field, content);
            } else {
                String name = random.nextInt(4) == 0 ? randomText(random, 1 + random.nextInt(30))
                        : names[random.nextInt(names.length)];
                form.file(field, name.replace("\"", ""), content);
            }
        }
        return new Case("form", Multipart.contentType(), form.build());
    }

    /** One of: flip bytes, truncate, insert noise, duplicate a slice, zero a slice. */
    private static byte[] mutate(byte[] archive, Random random) {
        byte[] out = archive.clone();
        switch (random.nextInt(5)) {
            case 0 -> {
                for (int i = 0, n = 1 + random.nextInt(8); i < n; i++) {
                    out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                }
            }
            case 1 -> out = Arrays.copyOf(out, random.nextInt(out.length));
            case 2 -> {
                int at = random.nextInt(out.length);
                ByteArrayOutputStream grown = new ByteArrayOutputStream();
                grown.write(out, 0, at);
                grown.writeBytes(noise(random, 1 + random.nextInt(64)));
                grown.write(out, at, out.length - at);
                out = grown.toByteArray();
            }
            case 3 -> {
                int from = random.nextInt(out.length);
                int length = Math.min(out.length - from, 1 + random.nextInt(256));
                ByteArrayOutputStream grown = new ByteArrayOutputStream();
                grown.writeBytes(out);
                grown.write(out, from, length);
                out = grown.toByteArray();
            }
            default -> {
                int from = random.nextInt(out.length);
                Arrays.fill(out, from, Math.min(out.length, from + 1 + random.nextInt(64)), (byte) 0);
            }
        }
        return out;
    }

    private static byte[] mutateRange(byte[] body, int from, int to, Random random) {
        byte[] out = body.clone();
        for (int i = 0, n = 1 + random.nextInt(4); i < n && to > from; i++) {
            out[from + random.nextInt(to - from)] = (byte) random.nextInt(256);
        }
        return out;
    }

    private static byte[] replace(byte[] body, String what, String with) {
        // ISO-8859-1 maps every byte to one char and back, so binary content survives the round trip.
        String text = new String(body, java.nio.charset.StandardCharsets.ISO_8859_1);
        return text.replace(what, with).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static byte[] noise(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    private static String randomText(Random random, int length) {
        StringBuilder text = new StringBuilder();
        List<Character> alphabet = new ArrayList<>();
        for (char c : "abc./\\:-_ ~%é\u0000\u007f".toCharArray()) {
            alphabet.add(c);
        }
        for (int i = 0; i < length; i++) {
            text.append(alphabet.get(random.nextInt(alphabet.size())));
        }
        return text.toString();
    }
}
