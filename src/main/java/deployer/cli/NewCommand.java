package deployer.cli;

import deployer.core.Json;
import deployer.pack.Manifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deployer new NAME --template T [--dir D]}: renders a template into a folder that deploys as it is —
 * {@code {{name}}} and {@code {{class}}} replaced in file names and text, the sample artefact beside it, and the
 * template's library jars copied into {@code lib/} from the local Maven repository.
 */
@Command(name = "new", mixinStandardHelpOptions = true,
        description = {"Makes a model folder from a template: deploy.json, serving/<Class>.java, a sample "
                + "artefact and lib/*.jar. It deploys as it is.",
                "Templates: basic (plain Java), onnx (ONNX Runtime), tribuo (Oracle Tribuo)."})
public final class NewCommand extends ClientCommand {

    /** Files whose text has placeholders; every other file is copied byte for byte. */
    static final Set<String> TEXT = Set.of("java", "json", "md", "txt", "properties", "csv");

    @Parameters(paramLabel = "NAME", description = "The model's name: lower case letters, digits, '.', '_', '-'.")
    String name;

    @Option(names = {"-t", "--template"}, paramLabel = "T", required = true,
            description = "basic, onnx or tribuo.")
    String template;

    @Option(names = "--dir", paramLabel = "D", description = "The folder to make (default ./NAME).")
    Path dir;

    @Option(names = "--maven-repo", paramLabel = "DIR",
            description = "Where the library jars are found (default: DEPLOYER_MAVEN_REPO, else ~/.m2/repository).")
    Path mavenRepo;

    @Override
    int run() throws IOException {
        if (!Manifest.NAME.matcher(name).matches()) {
            throw CliFailure.usage("model name " + Target.quote(name) + " must match " + Manifest.NAME.pattern()
                    + " (lower case, e.g. iris or churn-v2)");
        }
        Templates templates = new Templates(NewCommand.class.getClassLoader());
        Templates.Template t = templates.template(template);
        Path folder = dir != null ? dir : Path.of(name);
        if (Files.exists(folder) && !(Files.isDirectory(folder) && isEmpty(folder))) {
            throw CliFailure.usage(folder + " already exists and is not an empty folder; pick another --dir");
        }
        String className = className(name);
        List<String> written = new ArrayList<>();
        for (String file : t.files()) {
            String target = render(file, className);
            Path out = folder.resolve(target);
            Files.createDirectories(out.getParent());
            byte[] bytes = templates.read(t.name(), file);
            if (TEXT.contains(extension(file))) {
                bytes = render(new String(bytes, StandardCharsets.UTF_8), className).getBytes(StandardCharsets.UTF_8);
            }
            Files.write(out, bytes);
            written.add(target.replace(folder.getFileSystem().getSeparator(), "/"));
        }
        List<String> missing = copyLibraries(t, folder.resolve("lib"), written);
        out().println("made " + folder + " from template " + t.name() + " (" + t.description() + "): "
                + Output.names(written));
        if (!missing.isEmpty()) {
            Path repo = repository();
            fail(missing.size() + " library jar(s) are not in the local Maven repository " + repo
                    + "; fetch them, then deploy:");
            for (String coordinate : missing) {
                err().println("  mvn dependency:copy -Dartifact=" + coordinate + " -DoutputDirectory="
                        + folder.resolve("lib"));
            }
            return CliFailure.FAILED;
        }
        out().println("next:");
        out().println("  cd " + Target.display(folder));
        String login = loginHint();
        if (login != null) {
            out().println("  " + login);
        }
        out().println("  deployer deploy .");
        out().println("  deployer predict " + name + " '" + sample(folder) + "'");
        return 0;
    }

    /**
     * The login to run first when only this folder's {@code ./deployer-data} names a server (it is not there once
     * the user is in the new folder); null when the environment or an earlier login already names one.
     */
    private String loginHint() {
        if (env.get("DEPLOYER_SERVER") != null && !env.get("DEPLOYER_SERVER").isBlank()) {
            return null;
        }
        try {
            if (ClientHome.of(env).read() != null) {
                return null;
            }
        } catch (CliFailure e) {
            return null;
        }
        Path data = Path.of(Target.DEFAULT_DATA);
        Path port = data.resolve("server.port");
        try {
            if (Files.isRegularFile(port)) {
                return "deployer login http://127.0.0.1:" + Files.readString(port).trim() + " --data "
                        + data.toAbsolutePath().normalize() + "    # once: then every folder reaches this server";
            }
        } catch (IOException e) {
            // no hint from a file we cannot read
        }
        return "deployer login URL --token T    # once: the server's address and its admin token";
    }

    private List<String> copyLibraries(Templates.Template t, Path lib, List<String> written) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String coordinate : t.libraries()) {
            String[] gav = coordinate.split(":");
            if (gav.length != 3) {
                throw new IllegalStateException("template " + t.name() + ": library " + coordinate
                        + " is not group:artifact:version");
            }
            String jar = gav[1] + "-" + gav[2] + ".jar";
            Path source = repository().resolve(gav[0].replace('.', '/')).resolve(gav[1]).resolve(gav[2]).resolve(jar);
            if (!Files.isRegularFile(source)) {
                missing.add(coordinate);
                continue;
            }
            Files.createDirectories(lib);
            Files.copy(source, lib.resolve(jar), StandardCopyOption.REPLACE_EXISTING);
            written.add("lib/" + jar);
        }
        return missing;
    }

    private Path repository() {
        if (mavenRepo != null) {
            return mavenRepo;
        }
        String fromEnv = env.get("DEPLOYER_MAVEN_REPO");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        return Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /** The health sample of the rendered deploy.json, as the request to try first. */
    private static String sample(Path folder) throws IOException {
        Manifest manifest = Manifest.parse(Files.readAllBytes(folder.resolve(Packer.MANIFEST)));
        return manifest.health().sample() == null ? "{}" : Json.writeString(manifest.health().sample());
    }

    private String render(String text, String className) {
        return text.replace("{{name}}", name).replace("{{class}}", className);
    }

    /** {@code churn-v2} becomes {@code ChurnV2Model}: a Java class name made of the model's name. */
    static String className(String modelName) {
        StringBuilder s = new StringBuilder();
        for (String part : modelName.split("[^A-Za-z0-9]+")) {
            if (!part.isEmpty()) {
                s.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        if (s.length() == 0 || !Character.isJavaIdentifierStart(s.charAt(0))) {
            s.insert(0, "M");
        }
        return s.toString().endsWith("Model") ? s.toString() : s + "Model";
    }

    private static String extension(String file) {
        int dot = file.lastIndexOf('.');
        return dot < 0 ? "" : file.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static boolean isEmpty(Path folder) throws IOException {
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.findAny().isEmpty();
        }
    }
}
