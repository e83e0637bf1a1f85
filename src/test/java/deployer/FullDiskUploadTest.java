package deployer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import deployer.testing.Multipart;
import deployer.testing.Packages;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upload that fills the disk of the data folder (a real 24 MiB tmpfs, where the box lets the test mount one) is a
 * 507 naming the data folder, leaves nothing in staging, and the server takes the next upload that fits.
 */
class FullDiskUploadTest {

    @TempDir
    Path parent;

    Path data;
    boolean mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            new ProcessBuilder("umount", data.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void anUploadThatFillsTheDiskIs507NamingTheDataFolder() throws Exception {
        data = parent.resolve("data");
        java.nio.file.Files.createDirectories(data);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", data.toString())
                .redirectErrorStream(true).start();
        mounted = mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        assumeTrue(mounted, "needs permission to mount a small tmpfs");

        try (TestServer server = TestServer.start(data)) {
            byte[] noise = new byte[40 << 20];
            new Random(13).nextBytes(noise);
            TestServer.Response full = server.upload(new Multipart().file("package", "big.zip", noise), null);

            assertThat(full.status()).as(full.text()).isEqualTo(507);
            assertThat(full.error()).contains("no space left").contains(data.toString());
            assertThat(server.staging()).isEmpty();
            assertThat(server.deploy(Packages.zip(TestModels.echo("fits")))).containsEntry("state", "READY");
        }
    }
}
