package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** A kept jar that no version links to any more (its model purged) is deleted at the next start; others stay. */
class LibStoreSweepTest extends ServerTest {

    @Test
    void keptJarOfAPurgedModelGoesAtTheNextStartAndASharedOneStays() throws Exception {
        byte[] jar = Packages.zip(Map.of("weights.bin", new byte[4096]));
        byte[] other = Packages.zip(Map.of("other.bin", new byte[8192]));
        Map<String, byte[]> a = Packages.echoPackage("purged");
        a.put("lib/weights.jar", jar);
        Map<String, byte[]> b = Packages.echoPackage("kept");
        b.put("lib/other.jar", other);
        assertThat(server.deploy(Packages.zip(a))).containsEntry("state", "READY");
        assertThat(server.deploy(Packages.zip(b))).containsEntry("state", "READY");
        assertThat(kept()).hasSize(2);

        TestServer.Response gone = server.send(HttpRequest.newBuilder(server.uri("/api/models/purged?purge=true"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
        assertThat(gone.status()).isEqualTo(204);
        server.restart();

        List<Path> left = kept();
        assertThat(left).hasSize(1);
        assertThat(Files.readAllBytes(left.get(0))).isEqualTo(other);
        // the other model comes back up after the restart, its jar still in place
        assertThat(Eventually.get(() -> server.predict("kept", "{}").status(), status -> status == 200))
                .isEqualTo(200);
    }

    private List<Path> kept() throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("libs"))) {
            return files.toList();
        }
    }
}
