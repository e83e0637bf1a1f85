package deployer.export;

import com.google.cloud.tools.jib.api.CacheDirectoryCreationException;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.RegistryException;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import com.google.cloud.tools.jib.api.buildplan.Port;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;

/**
 * An OCI image of one model, built with Jib's core library — no container engine, no Dockerfile — into an image
 * archive that {@code docker load}, {@code podman load} or {@code skopeo copy} take.
 *
 * <p>Two layers of our own, so that a new model version only changes the second: the deployer jar at
 * {@value #JAR}, and the package (its compiled classes included, so the image needs a JRE, not a JDK) under
 * {@value #MODEL}. The entrypoint is {@code deployer cell} on {@value #MODEL}, listening on {@link #PORT}.
 */
public final class ImageArchive {

    /** The base image when none is named: a JRE, since the package arrives compiled. */
    public static final String DEFAULT_BASE_IMAGE = "eclipse-temurin:17-jre";
    /** {@code --base-image scratch}: no base at all (the image then needs a java of its own to run). */
    public static final String SCRATCH = "scratch";
    public static final String JAR = "/app/deployer.jar";
    public static final String MODEL = "/app/model";
    public static final int PORT = 8080;

    private ImageArchive() {
    }

    /** The command the image runs. */
    public static List<String> entrypoint() {
        return List.of("java", "-jar", JAR, "cell", MODEL, "--port", Integer.toString(PORT));
    }

    /**
     * Builds the image archive.
     *
     * @param deployerJar the deployer jar to put in the image
     * @param packageDir the unpacked package (with {@code .deployer/classes} when it has serving scripts)
     * @param imageName the image's reference in the archive, e.g. {@code deployer/iris:3}
     * @param baseImage a registry image reference, or {@link #SCRATCH}
     * @param archive where to write the archive
     * @param cache Jib's layer cache (base layers and ours)
     * @return the image's digest, {@code sha256:…}
     */
    public static String build(Path deployerJar, Path packageDir, String imageName, String baseImage, Path archive,
                               Path cache) throws IOException, InterruptedException {
        Objects.requireNonNull(deployerJar, "deployerJar");
        if (!Files.isRegularFile(deployerJar)) {
            throw new IOException("no deployer jar at " + deployerJar + "; run deployer from its jar to export");
        }
        try {
            JibContainerBuilder image = SCRATCH.equals(baseImage) ? Jib.fromScratch() : Jib.from(baseImage);
            JibContainer built = image
                    .setFormat(ImageFormat.OCI)
                    // A fixed time: the same jar and package give the same layers, so a registry stores them once.
                    .setCreationTime(Instant.EPOCH)
                    .addFileEntriesLayer(FileEntriesLayer.builder().setName("deployer")
                            .addEntry(deployerJar, AbsoluteUnixPath.get(JAR)).build())
                    .addFileEntriesLayer(FileEntriesLayer.builder().setName("model")
                            .addEntryRecursive(packageDir, AbsoluteUnixPath.get(MODEL)).build())
                    .setWorkingDirectory(AbsoluteUnixPath.get("/app"))
                    .setEntrypoint(entrypoint())
                    .addExposedPort(Port.tcp(PORT))
                    .addLabel("org.opencontainers.image.title", imageName)
                    .containerize(Containerizer.to(TarImage.at(archive).named(imageName))
                            .setBaseImageLayersCache(cache.resolve("base"))
                            .setApplicationLayersCache(cache.resolve("application"))
                            .setToolName("deployer"));
            return built.getDigest().toString();
        } catch (InvalidImageReferenceException e) {
            throw new IllegalArgumentException("--base-image " + baseImage + " is not an image reference (like "
                    + DEFAULT_BASE_IMAGE + ", or scratch)", e);
        } catch (RegistryException | ExecutionException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IOException("could not build the image on " + baseImage + ": " + cause.getMessage()
                    + (SCRATCH.equals(baseImage) ? "" : " (the base image is pulled from its registry: check the"
                    + " network, or use --base-image scratch)"), cause);
        } catch (CacheDirectoryCreationException e) {
            throw new IOException("could not create Jib's cache in " + cache + ": " + e.getMessage(), e);
        }
    }
}
