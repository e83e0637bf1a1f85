package deployer.cli;

import deployer.Deployer;
import deployer.core.Settings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A real deployer for the client tests: Jetty on port 0, cells on free ports, its data in a temp folder. */
final class CliServer implements AutoCloseable {

    static final String TOKEN = "cli-test-token-0123456789";

    final Path data;
    final Deployer deployer;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private CliServer(Path data) throws Exception {
        this.data = data;
        this.deployer = Deployer.start(Settings.defaults(data).withPort(0)
                .withCellPorts(Settings.PortRange.any()).withToken(TOKEN));
    }

    static CliServer start(Path data) throws Exception {
        return new CliServer(data);
    }

    String url() {
        return deployer.uri().toString().replaceAll("/$", "");
    }

    /** The connection flags of a client command aimed at this server. */
    String[] flags() {
        return new String[] {"--server", url(), "--token", TOKEN};
    }

    /** {@code args} followed by {@link #flags()}. */
    String[] with(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(flags()));
        return all.toArray(String[]::new);
    }

    /** Scores through the gateway with plain HTTP: status and body. */
    HttpResponse<String> predict(String model, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url() + "/models/" + model + "/predict"))
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The files of one stored deployment, relative to its folder, sorted. */
    List<String> stored(String model, Object deployId) throws IOException {
        Path folder = data.resolve("models").resolve(model).resolve(String.valueOf(deployId));
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile).map(f -> folder.relativize(f).toString()).sorted().toList();
        }
    }

    @Override
    public void close() {
        deployer.close();
    }
}
