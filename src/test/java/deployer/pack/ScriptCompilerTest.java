package deployer.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.core.DeployerException;
import deployer.spi.Model;
import deployer.testing.Packages;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScriptCompilerTest {

    @TempDir
    Path temp;

    private Path packageDir;
    private Path classes;
    private ScriptCompiler compiler;

    @BeforeEach
    void setUp() throws IOException {
        packageDir = Files.createDirectories(temp.resolve("package"));
        classes = packageDir.resolve(".deployer/classes");
        compiler = new ScriptCompiler(SpiJar.write(temp.resolve("spi.jar")));
    }

    @Test
    void echoScriptCompilesAgainstTheSpiJarAndScores() throws Exception {
        writePackage(Packages.echoPackage("echo"));

        assertThat(compiler.compile(packageDir, classes)).isTrue();

        assertThat(classes.resolve("example/EchoModel.class")).isRegularFile();
        try (URLClassLoader loader = loader(classes)) {
            Model model = (Model) loader.loadClass("example.EchoModel").getConstructor().newInstance();
            assertThat(model.score("hi")).isEqualTo(Map.of("echo", "hi"));
        }
    }

    @Test
    void scriptCompilesAgainstAJarInLib() throws Exception {
        Path libSource = Files.createDirectories(temp.resolve("libsrc/greeting"));
        Files.writeString(libSource.resolve("Greeter.java"), """
                package greeting;
                public class Greeter {
                    public static String greet(Object who) { return "hello " + who; }
                }
                """);
        Path libClasses = Files.createDirectories(temp.resolve("libclasses"));
        int javac = ToolProvider.getSystemJavaCompiler()
                .run(null, null, null, "-d", libClasses.toString(), libSource.resolve("Greeter.java").toString());
        assertThat(javac).isZero();
        Path lib = Files.createDirectories(packageDir.resolve("lib"));
        jar(libClasses, "greeting/Greeter.class", lib.resolve("greeting.jar"));
        writeScript("GreetModel.java", """
                package example;
                public class GreetModel implements deployer.spi.Model {
                    public void load(deployer.spi.ModelContext context) {}
                    public Object score(Object input) { return greeting.Greeter.greet(input); }
                }
                """);

        assertThat(compiler.compile(packageDir, classes)).isTrue();

        assertThat(classes.resolve("example/GreetModel.class")).isRegularFile();
        assertThat(classes.resolve("greeting/Greeter.class")).doesNotExist();
    }

    @Test
    void compileErrorNamesTheFileAndLineRelativeToThePackage() throws IOException {
        writeScript("BrokenModel.java", """
                package example;

                public class BrokenModel implements deployer.spi.Model {
                    public void load(deployer.spi.ModelContext context) {}
                    public Object score(Object input) { return missing(input); }
                }
                """);

        assertThatThrownBy(() -> compiler.compile(packageDir, classes))
                .isInstanceOf(DeployerException.class)
                .hasMessageContaining("serving/BrokenModel.java:5: error: cannot find symbol")
                .extracting(e -> ((DeployerException) e).kind())
                .isEqualTo(DeployerException.Kind.BAD_REQUEST);
        assertThat(classes).isEmptyDirectory();
    }

    @Test
    void compileErrorsShowTheSourceLineAndACaretSoTwoOnOneLineReadApart() throws IOException {
        writeScript("TwiceModel.java", """
                package example;

                public class TwiceModel implements deployer.spi.Model {
                    public void load(deployer.spi.ModelContext context) {}
                    public Object score(Object input) { return first(input) + second(input); }
                }
                """);

        assertThatThrownBy(() -> compiler.compile(packageDir, classes))
                .isInstanceOf(DeployerException.class)
                .hasMessage("""
                        serving scripts do not compile:
                        serving/TwiceModel.java:5: error: cannot find symbol
                            public Object score(Object input) { return first(input) + second(input); }
                                                                       ^
                          symbol:   method first(java.lang.Object)
                          location: class example.TwiceModel
                        serving/TwiceModel.java:5: error: cannot find symbol
                            public Object score(Object input) { return first(input) + second(input); }
                                                                                      ^
                          symbol:   method second(java.lang.Object)
                          location: class example.TwiceModel""");
    }

    @Test
    void scriptCannotSeeTheServersOwnLibraries() throws IOException {
        writeScript("SneakyModel.java", """
                package example;

                import com.fasterxml.jackson.databind.ObjectMapper;

                public class SneakyModel implements deployer.spi.Model {
                    public void load(deployer.spi.ModelContext context) {}
                    public Object score(Object input) { return new ObjectMapper(); }
                }
                """);

        assertThatThrownBy(() -> compiler.compile(packageDir, classes))
                .isInstanceOf(DeployerException.class)
                .hasMessageContaining("serving/SneakyModel.java:3: error: package com.fasterxml.jackson.databind");
    }

    @Test
    void packageWithoutScriptsWritesNothing() throws IOException {
        Files.writeString(packageDir.resolve("deploy.json"), "{\"name\": \"jarred\"}");
        Files.createDirectories(packageDir.resolve("serving"));
        Files.writeString(packageDir.resolve("serving/README.txt"), "no sources here");

        assertThat(compiler.compile(packageDir, classes)).isFalse();

        assertThat(classes).doesNotExist();
    }

    @Test
    void staleClassesAreRemovedAndServiceFilesCopied() throws IOException {
        writePackage(Packages.echoPackage("echo"));
        writeScript("META-INF/services/deployer.spi.Model", "example.EchoModel\n");
        Files.createDirectories(classes);
        Files.writeString(classes.resolve("Stale.class"), "old");

        assertThat(compiler.compile(packageDir, classes)).isTrue();

        assertThat(classes.resolve("Stale.class")).doesNotExist();
        assertThat(classes.resolve("META-INF/services/deployer.spi.Model")).hasContent("example.EchoModel");
    }

    @Test
    void scriptsInSubfoldersOfServingAreCompiledToo() throws IOException {
        writeScript("example/util/Helper.java", """
                package example.util;
                public class Helper { public static Object twice(Object o) { return java.util.List.of(o, o); } }
                """);
        writeScript("TwiceModel.java", """
                package example;
                public class TwiceModel implements deployer.spi.Model {
                    public void load(deployer.spi.ModelContext context) {}
                    public Object score(Object input) { return example.util.Helper.twice(input); }
                }
                """);

        assertThat(compiler.compile(packageDir, classes)).isTrue();

        assertThat(classes.resolve("example/util/Helper.class")).isRegularFile();
        assertThat(classes.resolve("example/TwiceModel.class")).isRegularFile();
    }

    private void writePackage(Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Path target = packageDir.resolve(file.getKey());
            Files.createDirectories(target.getParent());
            Files.write(target, file.getValue());
        }
    }

    private void writeScript(String path, String source) throws IOException {
        Path target = packageDir.resolve("serving").resolve(path);
        Files.createDirectories(target.getParent());
        Files.writeString(target, source);
    }

    private static void jar(Path classes, String entry, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new JarEntry(entry));
            out.write(Files.readAllBytes(classes.resolve(entry)));
            out.closeEntry();
        }
    }

    private static URLClassLoader loader(Path... paths) throws IOException {
        List<URL> urls = new java.util.ArrayList<>();
        for (Path path : paths) {
            urls.add(path.toUri().toURL());
        }
        return new URLClassLoader(urls.toArray(URL[]::new), ScriptCompilerTest.class.getClassLoader());
    }
}
