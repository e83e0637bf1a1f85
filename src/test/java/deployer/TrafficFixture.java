package deployer;

import static org.assertj.core.api.Assertions.assertThat;

import deployer.testing.Packages;
import java.net.http.HttpRequest;
import java.util.Map;

/** What the traffic tests share: versions uploaded beside the active one, and the traffic calls. */
final class TrafficFixture {

    private final TestServer server;

    TrafficFixture(TestServer server) {
        this.server = server;
    }

    /** A model answering {@code {"echo": input}} (the same for every version) and its version in the header. */
    static Map<String, byte[]> same(String name) {
        return TestModels.scripted(name, "Same", "", "return Map.of(\"echo\", input == null ? \"null\" : input);");
    }

    /** Uploads a version beside the active one and waits for it to be READY. */
    Map<String, Object> candidate(Map<String, byte[]> files) {
        TestServer.Response r = server.upload(Packages.zip(files), "activate=false&wait=60");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.object().get("state")).as(r.text()).isEqualTo("READY");
        return r.object();
    }

    TestServer.Response put(String model, String json) {
        return server.send(HttpRequest.newBuilder(server.uri("/api/models/" + model + "/traffic"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    TestServer.Response putPayloads(String model, String json) {
        return server.send(HttpRequest.newBuilder(server.uri("/api/models/" + model + "/payloads"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    TestServer.Response delete(String model) {
        return server.send(HttpRequest.newBuilder(server.uri("/api/models/" + model + "/traffic"))
                .header("Authorization", "Bearer " + TestServer.TOKEN).DELETE());
    }

    Map<String, Object> get(String model) {
        TestServer.Response r = server.get("/api/models/" + model + "/traffic");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.object();
    }

    /** Scores once through the gateway; the version that answered, from {@code X-Deployer-Version}. */
    int predict(String model, String pin) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/models/" + model + "/predict"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"x\": 1}"));
        if (pin != null) {
            b.header("X-Deployer-Version", pin);
        }
        TestServer.Response r = server.send(b);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return Integer.parseInt(server.lastHeaders().firstValue("X-Deployer-Version").orElseThrow());
    }
}
