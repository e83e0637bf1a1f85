package deployer.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The templates {@code deployer new} renders, read from the class path ({@code templates/<name>/} in the jar,
 * copied there from the repository's {@code templates/} by the build). A template is a folder with a
 * {@code template.properties} (its description and the Maven coordinates of the jars its {@code lib/} needs) and
 * the files to render.
 */
final class Templates {

    static final String ROOT = "templates";
    static final String DESCRIPTOR = "template.properties";

    /** One template: its name, description, library coordinates and files (paths relative to its folder). */
    record Template(String name, String description, List<String> libraries, List<String> files) {
    }

    private final ClassLoader loader;

    Templates(ClassLoader loader) {
        this.loader = loader;
    }

    /** The names of the templates, sorted. */
    List<String> names() {
        return withRoot(root -> {
            try (Stream<Path> folders = Files.list(root)) {
                return folders.filter(f -> Files.isRegularFile(f.resolve(DESCRIPTOR)))
                        .map(f -> f.getFileName().toString().replace("/", "")).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The template called {@code name}, or a usage failure naming the ones there are. */
    Template template(String name) {
        if (!names().contains(name)) {
            throw CliFailure.usage("no template " + Target.quote(name) + "; there are " + String.join(", ", names()));
        }
        return withRoot(root -> {
            Path folder = root.resolve(name);
            try (InputStream in = Files.newInputStream(folder.resolve(DESCRIPTOR));
                 Stream<Path> walk = Files.walk(folder)) {
                Properties descriptor = new Properties();
                descriptor.load(in);
                List<String> libraries = new ArrayList<>();
                for (String coordinate : descriptor.getProperty("libraries", "").split(",")) {
                    if (!coordinate.isBlank()) {
                        libraries.add(coordinate.trim());
                    }
                }
                List<String> files = walk.filter(Files::isRegularFile).map(f -> folder.relativize(f).toString())
                        .filter(f -> !f.equals(DESCRIPTOR)).sorted().toList();
                return new Template(name, descriptor.getProperty("description", ""), List.copyOf(libraries), files);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The bytes of one file of a template. */
    byte[] read(String template, String file) {
        return withRoot(root -> {
            try {
                return Files.readAllBytes(root.resolve(template).resolve(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Runs {@code body} on the templates' folder, whether it is a folder on disk (tests) or inside the jar. */
    private <T> T withRoot(Function<Path, T> body) {
        URL url = loader.getResource(ROOT + "/");
        if (url == null) {
            throw CliFailure.failed("this deployer was built without its templates (no " + ROOT + "/ on the class "
                    + "path); build it with mvn package");
        }
        URI uri;
        try {
            uri = url.toURI();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        if (!uri.getScheme().equals("jar")) {
            return body.apply(Path.of(uri));
        }
        FileSystem opened = null;
        try {
            try {
                opened = FileSystems.newFileSystem(uri, Map.of());
            } catch (FileSystemAlreadyExistsException e) {
                // someone else's view of the same jar: use it, and leave it open
            }
            return body.apply(Path.of(uri));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (opened != null) {
                try {
                    opened.close();
                } catch (IOException e) {
                    // a read-only view of our own jar: nothing to lose
                }
            }
        }
    }
}
