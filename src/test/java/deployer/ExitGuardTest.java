package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.guard.ExitGuard;
import deployer.testing.Packages;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model that calls {@code System.exit} or {@code Runtime.halt} does not stop the server: the exit guard refuses it,
 * the model's own request or load fails with the reason, and every other model keeps serving. This JVM runs with
 * the guard as surefire's {@code -javaagent}; without it these tests would end the test JVM, so they check first.
 */
class ExitGuardTest {

    @TempDir
    Path data;

    TestServer server;

    @BeforeAll
    static void guardIsActive() {
        assertThat(ExitGuard.active()).as("the test JVM must run with the exit guard agent (surefire argLine)")
                .isTrue();
    }

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(data);
        server.deploy(Packages.zip(TestModels.echo("bystander")));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void systemExitInScoreIsRefusedAndTheServerKeepsServing() {
        server.deploy(Packages.zip(TestModels.scripted("quitter", "Quitter", "", "System.exit(0); return 1;")));

        TestServer.Response r = server.predict("quitter", "{}");

        assertThat(r.status()).isEqualTo(500);
        assertThat(r.error()).contains("quitter v1").contains("SecurityException")
                .contains("a model may not stop the server").contains("example.Quitter");
        assertThat(server.predict("bystander", "\"still here\"").status()).isEqualTo(200);
        assertThat(server.predict("quitter", "{}").status()).isEqualTo(500);
    }

    @Test
    void runtimeHaltInLoadFailsThatDeployOnly() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.scripted("halter", "Halter",
                "Runtime.getRuntime().halt(3);", "return 1;")));

        assertThat(d).containsEntry("state", "FAILED");
        assertThat((String) d.get("error")).contains("load() failed").contains("a model may not stop the server");
        assertThat(server.predict("bystander", "1").status()).isEqualTo(200);
    }

    @Test
    void javaDashJarStartsTheGuardFromTheJarManifest(@TempDir Path other, @TempDir Path work) throws Exception {
        Path launcher = launcherJar(work);
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                launcher.toString(), "serve", "--port", "0", "--data", other.toString(), "--token", TestServer.TOKEN,
                "--cell-ports", "0");
        ChildHttp http = new ChildHttp();
        try (ChildServer child = ChildServer.launch(command, Map.of(), other, work.resolve("server.log"))) {
            byte[] quitter = Packages.zip(TestModels.prebuilt(work, "{\"name\": \"quitter\"}", "Quitter", "",
                    "Runtime.getRuntime().halt(9); return 1;", ""));
            assertThat(http.upload(child, quitter, "wait=60").object()).containsEntry("state", "READY");

            TestServer.Response r = http.post(child.uri("/models/quitter/predict"), "{}");

            assertThat(r.status()).isEqualTo(500);
            assertThat(r.error()).contains("a model may not stop the server");
            assertThat(child.isAlive()).isTrue();
            assertThat(child.terminate()).isIn(0, 143);
        }
        assertThat(Files.readString(work.resolve("server.log"))).doesNotContain("exit guard is not active");
    }

    /**
     * A jar like the shaded one as far as starting goes — {@code Main-Class}, {@code Launcher-Agent-Class},
     * {@code Can-Retransform-Classes} — whose {@code Class-Path} is the test class path, since the real jar is only
     * built after the tests.
     */
    private static Path launcherJar(Path work) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.put(Attributes.Name.MAIN_CLASS, "deployer.Main");
        main.putValue("Launcher-Agent-Class", "deployer.guard.ExitGuardAgent");
        main.putValue("Can-Retransform-Classes", "true");
        main.put(Attributes.Name.CLASS_PATH, Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(entry -> Path.of(entry).toUri().toString()).collect(Collectors.joining(" ")));
        Path jar = work.resolve("launcher.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
        return jar;
    }

    @Test
    void exitFromAThreadTheModelStartedIsRefusedToo() {
        server.deploy(Packages.zip(TestModels.scripted("sneaky", "Sneaky", "", """
                Object[] outcome = new Object[1];
                Thread t = new Thread(() -> {
                    try {
                        Runtime.getRuntime().exit(7);
                        outcome[0] = "exited?";
                    } catch (SecurityException e) {
                        outcome[0] = "refused";
                    }
                });
                t.start();
                t.join();
                return outcome[0];
                """)));

        TestServer.Response r = server.predict("sneaky", "{}");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("\"refused\"");
        assertThat(server.predict("bystander", "2").status()).isEqualTo(200);
    }
}
