package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A cell sees the JDK and the SPI, nothing of the server, and its own libraries in its own versions. */
class IsolationTest extends ServerTest {

    @Test
    void serverLibrariesAreInvisibleToACell() {
        server.deploy(Packages.zip(TestModels.scripted("curious", "Curious", "", """
                Map<String, Object> seen = new TreeMap<>();
                for (String name : List.of("org.eclipse.jetty.server.Server",
                        "com.fasterxml.jackson.databind.ObjectMapper", "org.h2.Driver",
                        "com.zaxxer.hikari.HikariDataSource", "deployer.cell.Cell", "org.slf4j.Logger",
                        "deployer.spi.Model", "java.util.HashMap")) {
                    try {
                        Class.forName(name, false, Thread.currentThread().getContextClassLoader());
                        seen.put(name, "visible");
                    } catch (ClassNotFoundException e) {
                        seen.put(name, "hidden");
                    }
                }
                seen.put("own loader", getClass().getClassLoader() == Thread.currentThread().getContextClassLoader());
                for (String resource : List.of("db/migration/V1__schema.sql", "admin/index.html")) {
                    seen.put(resource, getClass().getClassLoader().getResource(resource) == null ? "hidden" : "visible");
                }
                boolean systemIsAncestor = false;
                for (ClassLoader l = getClass().getClassLoader(); l != null; l = l.getParent()) {
                    systemIsAncestor |= l == ClassLoader.getSystemClassLoader();
                }
                seen.put("system loader among ancestors", systemIsAncestor);
                try {
                    Class.forName("deployer.cell.Cell", false, ClassLoader.getSystemClassLoader());
                    seen.put("through the system loader", "visible");
                } catch (ClassNotFoundException e) {
                    seen.put("through the system loader", "hidden");
                }
                return seen;
                """)));

        Map<String, Object> seen = server.predict("curious", "{}").object();

        // the resources asserted hidden below really are on the server's own class path
        assertThat(getClass().getClassLoader().getResource("db/migration/V1__schema.sql")).isNotNull();
        assertThat(getClass().getClassLoader().getResource("admin/index.html")).isNotNull();

        assertThat(seen).containsEntry("org.eclipse.jetty.server.Server", "hidden")
                .containsEntry("com.fasterxml.jackson.databind.ObjectMapper", "hidden")
                .containsEntry("org.h2.Driver", "hidden")
                .containsEntry("com.zaxxer.hikari.HikariDataSource", "hidden")
                .containsEntry("deployer.cell.Cell", "hidden")
                .containsEntry("org.slf4j.Logger", "hidden")
                .containsEntry("db/migration/V1__schema.sql", "hidden")
                .containsEntry("admin/index.html", "hidden")
                .containsEntry("system loader among ancestors", false)
                // A model that asks the JVM's system loader on purpose reaches the server's classes: in-process
                // isolation keeps libraries apart, it is no sandbox ("isolation": "process" is, see ARCHITECTURE.md).
                // Asserted so a change in that boundary is seen, not assumed.
                .containsEntry("through the system loader", "visible")
                .containsEntry("deployer.spi.Model", "visible")
                .containsEntry("java.util.HashMap", "visible")
                .containsEntry("own loader", true);
    }

    @Test
    void twoModelsCarryDifferentVersionsOfOneLibrarySideBySide() throws Exception {
        server.deploy(Packages.zip(withGreeter("greeter-one", "one")));
        server.deploy(Packages.zip(withGreeter("greeter-two", "two")));

        assertThat(server.predict("greeter-one", "{}").object()).containsEntry("greeting", "hello from one");
        assertThat(server.predict("greeter-two", "{}").object()).containsEntry("greeting", "hello from two");
    }

    @Test
    void prebuiltJarWithAServiceFileDeploysWithoutEntryOrScripts() throws Exception {
        byte[] jar = TestJars.jar(work, Map.of("example/Prebuilt.java", TestModels.script("Prebuilt", "",
                        "return Map.of(\"prebuilt\", true);")),
                Map.of("META-INF/services/deployer.spi.Model", "example.Prebuilt\n"), List.of());
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("deploy.json", TestModels.bytes("{\"name\": \"prebuilt\"}"));
        files.put("model.jar", jar);

        Map<String, Object> d = server.deploy(Packages.zip(files));

        assertThat(d).containsEntry("state", "READY");
        assertThat(server.predict("prebuilt", "{}").object()).containsEntry("prebuilt", true);
    }

    /** A package whose script calls {@code greet.Greeter} from its own {@code lib/greet.jar}. */
    private Map<String, byte[]> withGreeter(String name, String flavour) throws Exception {
        byte[] lib = TestJars.jar(work, Map.of("greet/Greeter.java", """
                package greet;
                public class Greeter {
                    public static String greet() { return "hello from %s"; }
                }
                """.formatted(flavour)), Map.of(), List.of());
        Map<String, byte[]> files = TestModels.scripted(name, "Greets", "",
                "return Map.of(\"greeting\", greet.Greeter.greet());");
        files.put("lib/greet.jar", lib);
        return files;
    }
}
