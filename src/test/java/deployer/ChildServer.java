package deployer;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A deployer in a real child process, for tests that kill it the hard way. */
final class ChildServer implements AutoCloseable {

    private final Process process;
    final int port;

    private ChildServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts {@code deployer serve} on {@code data} and waits until it wrote the port it bound. */
    static ChildServer start(Path data, Path log, String... extraArgs) throws IOException {
        Files.createDirectories(data);
        Path portFile = data.resolve("server.port");
        Files.deleteIfExists(portFile);
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "deployer.Main", "serve",
                "--port", "0", "--data", data.toString(), "--token", TestServer.TOKEN, "--cell-ports", "0"));
        command.addAll(List.of(extraArgs));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        String port = Eventually.get(() -> read(portFile, process), text -> !text.isEmpty());
        return new ChildServer(process, Integer.parseInt(port));
    }

    private static String read(Path portFile, Process process) {
        if (!process.isAlive()) {
            throw new IllegalStateException("the child server exited with " + process.exitValue());
        }
        try {
            return Files.exists(portFile) ? Files.readString(portFile).trim() : "";
        } catch (IOException e) {
            return "";
        }
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** SIGKILL: no shutdown hook, no clean close of anything. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the shutdown hook drains cells and closes the database. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the child server did not stop within 60 s of SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
