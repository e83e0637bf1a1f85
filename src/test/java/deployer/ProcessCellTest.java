package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import deployer.core.Settings;

/**
 * A model with {@code "isolation": "process"} serves from a child JVM of the server: same ports, gateway, health and
 * API as an in-process cell; a child that dies in any way is restarted while the other models keep serving.
 */
class ProcessCellTest extends ServerTest {

    /** A process model that answers its own pid, or ends its JVM the way the input says. */
    static Map<String, byte[]> mortal(String name, int heapMb) {
        Map<String, byte[]> files = TestModels.scripted(name, "Mortal", "", """
                Object what = input instanceof Map<?, ?> m ? m.get("do") : null;
                if ("exit".equals(what)) {
                    System.exit(7);
                } else if ("halt".equals(what)) {
                    Runtime.getRuntime().halt(9);
                } else if ("oom".equals(what)) {
                    List<long[]> hog = new ArrayList<>();
                    while (true) {
                        hog.add(new long[1 << 20]);
                    }
                }
                return Map.of("pid", ProcessHandle.current().pid(), "version", context.version(), "echo", input);
                """);
        files.put("deploy.json", TestModels.bytes("{\"name\": \"" + name + "\", \"entry\": \"example.Mortal\","
                + " \"isolation\": \"process\", \"jvm\": {\"heap_mb\": " + heapMb + "},"
                + " \"health\": {\"sample\": {\"x\": 1}}}"));
        return files;
    }

    @Test
    void processModelAnswersOnItsPortAndTheGatewayFromAChildJvm() {
        Map<String, Object> d = server.deploy(Packages.zip(mortal("apart", 96)));
        assertThat(d).containsEntry("state", "READY").containsEntry("isolation", "process")
                .containsEntry("heap_mb", 96L);
        long pid = (Long) d.get("pid");
        assertThat(pid).isNotEqualTo(ProcessHandle.current().pid());
        assertThat(ProcessHandle.of(pid)).hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());

        TestServer.Response own = server.post(URI.create(d.get("url") + "/predict"), "{\"x\": 1}");
        assertThat(own.status()).as(own.text()).isEqualTo(200);
        assertThat(own.object()).containsEntry("pid", pid).containsEntry("version", 1L);
        TestServer.Response gateway = server.predict("apart", "{\"x\": 2}");
        assertThat(gateway.status()).isEqualTo(200);
        assertThat(gateway.object()).containsEntry("pid", pid).containsEntry("echo", Map.of("x", 2L));
        TestServer.Response health = server.send(java.net.http.HttpRequest.newBuilder(
                URI.create(d.get("url") + "/health")).GET());
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.object()).containsEntry("status", "UP").containsEntry("model", "apart");
        TestServer.Response bad = server.predict("apart", "{not json");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.error()).contains("not valid JSON");

        Map<String, Object> line = server.get("/api/models").list().stream().map(TestServer::asMap)
                .filter(m -> "apart".equals(m.get("name"))).findFirst().orElseThrow();
        assertThat(line).containsEntry("pid", pid).containsEntry("isolation", "process");
    }

    @Test
    void stoppingAProcessModelEndsItsChildAndStartBringsANewOne() {
        Map<String, Object> d = server.deploy(Packages.zip(mortal("stopper", 64)));
        long pid = (Long) d.get("pid");
        assertThat(server.send(post("/api/models/stopper/stop")).status()).isEqualTo(200);
        Eventually.get(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
        assertThat(server.send(post("/api/models/stopper/start")).status()).isEqualTo(200);
        Map<String, Object> back = Eventually.get(() -> server.get("/api/deployments/" + d.get("deploy_id"))
                .object(), x -> "READY".equals(x.get("state")) && x.get("pid") != null);
        assertThat(back.get("pid")).isNotEqualTo(pid);
        assertThat(server.predict("stopper", "{}").status()).isEqualTo(200);
    }

    @Test
    void classloaderIsolationIsTheDefaultAndShowsNoPid() {
        Map<String, Object> d = server.deploy(Packages.zip(TestModels.echo("inside")));
        assertThat(d).doesNotContainKey("pid").doesNotContainKey("isolation");
    }

    @Test
    void unknownIsolationOrJvmWithoutProcessIsRefusedNamingTheKey() {
        Map<String, byte[]> files = TestModels.echo("wrong");
        files.put("deploy.json", TestModels.bytes("{\"name\": \"wrong\", \"isolation\": \"container\"}"));
        TestServer.Response r = server.upload(Packages.zip(files), null);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.error()).contains("isolation must be one of classloader, process");

        files.put("deploy.json", TestModels.bytes("{\"name\": \"wrong\", \"jvm\": {\"heap_mb\": 128}}"));
        r = server.upload(Packages.zip(files), null);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.error()).contains("jvm applies to a cell in a process of its own");

        files.put("deploy.json", TestModels.bytes(
                "{\"name\": \"wrong\", \"isolation\": \"process\", \"jvm\": {\"heap_mb\": 4}}"));
        r = server.upload(Packages.zip(files), null);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.error()).contains("jvm.heap_mb must be a whole number from 16");
    }

    @Test
    void irisExampleAsAProcessCellAnswersItsRowsAndTheProtocolThroughTheGateway() throws Exception {
        Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        Path base = Path.of("cells/iris");
        try (java.util.stream.Stream<Path> walk = java.nio.file.Files.walk(base)) {
            for (Path file : walk.filter(java.nio.file.Files::isRegularFile).sorted().toList()) {
                String name = base.relativize(file).toString();
                if (name.startsWith("serving/") || name.startsWith("model/")) {
                    files.put(name, java.nio.file.Files.readAllBytes(file));
                }
            }
        }
        String manifest = java.nio.file.Files.readString(base.resolve("deploy.json")).trim();
        files.put("deploy.json", TestModels.bytes(manifest.substring(0, manifest.length() - 1)
                + ", \"isolation\": \"process\"}"));
        Map<String, Object> d = server.deploy(Packages.zip(files));
        assertThat(d).containsEntry("state", "READY").containsKey("pid");

        Map<String, Object> setosa = server.predict("iris", "{\"features\": [5.1, 3.5, 1.4, 0.2]}").object();
        assertThat(setosa).containsEntry("class", "setosa");
        TestServer.Response r = server.post(server.uri("/v2/models/iris/infer"), "{\"id\": \"1\", \"inputs\": ["
                + "{\"name\": \"features\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [5.1, 3.5, 1.4, 0.2]}]}");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat((java.util.List<?>) r.object().get("outputs")).anySatisfy(o -> assertThat(TestServer.asMap(o))
                .containsEntry("name", "class").containsEntry("data", java.util.List.of("setosa")));
    }

    @Test
    void cellJvmFlagsAreCheckedAndNameTheFlag() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Settings.CellProcess.parse(null, "-Xss1m nope"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--cell-jvm-args: nope");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Settings.CellProcess.parse(
                work.resolve("no-java").toString(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--cell-java");
        assertThat(Settings.CellProcess.parse("", " -Xss1m  -XX:+UseSerialGC ").jvmArgs())
                .containsExactly("-Xss1m", "-XX:+UseSerialGC");
    }

    private java.net.http.HttpRequest.Builder post(String path) {
        return java.net.http.HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer "
                + TestServer.TOKEN).POST(java.net.http.HttpRequest.BodyPublishers.noBody());
    }
}
