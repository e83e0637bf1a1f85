package deployer.cli;

import deployer.core.FileTrees;
import deployer.export.ImageArchive;
import deployer.export.KubernetesManifests;
import deployer.pack.Manifest;
import deployer.pack.PackageZip;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer export NAME [--version V] --out DIR [--base-image IMAGE]} (DESIGN 1.12): one version of a model as
 * an OCI image archive ({@code DIR/image.tar}, whose entrypoint is {@code deployer cell}) and the Kubernetes and
 * KServe manifests that run it. The package comes from the server; the image is built here, without a container
 * engine.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Writes a model version as an OCI image archive plus Kubernetes and KServe manifests.")
public final class ExportCommand extends ApiCommand {

    @Parameters(index = "0", paramLabel = "NAME", description = "The model's name.")
    String name;

    @Option(names = "--version", paramLabel = "V", description = "The version to export (default: the active one).")
    Integer version;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Folder for image.tar, kubernetes.yaml and kserve.yaml (created if needed).")
    Path out;

    @Option(names = "--base-image", paramLabel = "IMAGE", defaultValue = ImageArchive.DEFAULT_BASE_IMAGE,
            description = "The image to build on (default ${DEFAULT-VALUE}); `scratch` for none.")
    String baseImage;

    @Option(names = "--image", paramLabel = "REF",
            description = "The image's reference in the archive and the manifests (default deployer/NAME:V); name"
                    + " your registry here to push it there.")
    String image;

    @Option(names = "--heap-mb", paramLabel = "MB", defaultValue = "512",
            description = "The cell's JVM heap; the manifests ask for it plus 256 MiB (default ${DEFAULT-VALUE}).")
    int heapMb;

    @Override
    int run() throws Exception {
        Manifest.checkName(name);
        if (heapMb < 64 || heapMb > 1 << 20) {
            throw CliFailure.usage("--heap-mb must be from 64 to 1048576, not " + heapMb);
        }
        Map<String, Object> chosen = chooseVersion(api().get("/api/models/" + name).orFail().object());
        int v = ((Number) chosen.get("version")).intValue();
        Object deployId = chosen.get("deploy_id");
        String reference = image != null ? image : "deployer/" + name + ":" + v;
        Path jar = selfJar();

        Files.createDirectories(out);
        Path work = Files.createTempDirectory(out, ".export-");
        try {
            Path zip = work.resolve("package.zip");
            api().download("/api/deployments/" + deployId + "/package", zip).orFail();
            Path packageDir = work.resolve("package");
            try (InputStream in = Files.newInputStream(zip)) {
                PackageZip.unpack(in, packageDir);
            }
            Path archive = out.resolve("image.tar");
            Path cache = Path.of(System.getProperty("user.home"), ".cache", "deployer", "jib");
            String digest;
            try {
                digest = ImageArchive.build(jar, packageDir, reference, baseImage, archive, cache);
            } catch (IllegalArgumentException e) {
                throw CliFailure.usage(e.getMessage());
            } catch (IOException e) {
                throw CliFailure.failed(e.getMessage());
            }
            KubernetesManifests manifests = new KubernetesManifests(name, v, reference, ImageArchive.PORT, heapMb);
            Files.writeString(out.resolve("kubernetes.yaml"), manifests.kubernetesYaml(), StandardCharsets.UTF_8);
            Files.writeString(out.resolve("kserve.yaml"), manifests.kserveYaml(), StandardCharsets.UTF_8);
            out().println("exported " + name + " v" + v + " as " + reference + " (" + digest + ")");
            out().println("  " + archive + "  (docker load -i, podman load -i, or skopeo copy oci-archive:…)");
            out().println("  " + out.resolve("kubernetes.yaml") + "  (kubectl apply -f)");
            out().println("  " + out.resolve("kserve.yaml") + "  (kubectl apply -f, on a cluster with KServe)");
            return 0;
        } finally {
            FileTrees.delete(work);
        }
    }

    private Map<String, Object> chooseVersion(Map<String, Object> model) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> versions = (List<Map<String, Object>>) model.get("versions");
        if (version == null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> active = (Map<String, Object>) model.get("active");
            if (active == null) {
                throw CliFailure.failed("model " + name + " has no active version; name one with --version");
            }
            return active;
        }
        return versions.stream().filter(d -> ((Number) d.get("version")).intValue() == version).findFirst()
                .orElseThrow(() -> CliFailure.failed("model " + name + " has no version " + version));
    }

    /** The jar this command runs from: what the image will run too. */
    private static Path selfJar() {
        try {
            Path location = Path.of(ExportCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(location)) {
                throw CliFailure.failed("deployer export runs from deployer's jar (bin/deployer or java -jar"
                        + " target/deployer.jar), not from " + location);
            }
            return location;
        } catch (URISyntaxException | SecurityException e) {
            throw CliFailure.failed("cannot tell which jar deployer runs from: " + e.getMessage());
        }
    }
}
