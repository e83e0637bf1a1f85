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
        return start(data, log, java.util.Map.of(), extraArgs);
    }

    /** The same, with extra environment variables (e.g. {@code DEPLOYER_HALT_AT}). */
    static ChildServer start(Path data, Path log, java.util.Map<String, String> env, String... extraArgs)
            throws IOException {
        Files.createDirectories(data);
        Path portFile = data.resolve("server.port");
        Files.deleteIfExists(portFile);
        List<String> command = new java.util.ArrayList<>(javaWithExitGuard());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "deployer.Main", "serve",
                "--port", "0", "--data", data.toString(), "--token", TestServer.TOKEN, "--cell-ports", "0"));
        command.addAll(List.of(extraArgs));
        return launch(command, env, data, log);
    }

    /** Runs {@code command} (a server, or a launcher that runs one) and waits for the port it wrote to data. */
    static ChildServer launch(List<String> command, java.util.Map<String, String> env, Path data, Path log)
            throws IOException {
        Path portFile = data.resolve("server.port");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        String port = Eventually.get(() -> read(portFile, process), text -> !text.isEmpty());
        return new ChildServer(process, Integer.parseInt(port));
    }

    /** {@code java}, with the exit guard agent the build made, as the server runs under {@code java -jar}. */
    static List<String> javaWithExitGuard() {
        List<String> java = new java.util.ArrayList<>();
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String agent = System.getProperty("deployer.test.exitGuardAgent");
        if (agent != null && Files.isRegularFile(Path.of(agent))) {
            java.add("-javaagent:" + agent);
        }
        return java;
    }

    /** Waits for the process to end by itself (a crash test's halt); returns its status. */
    int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the child server is still running after " + seconds + " s");
        }
        return process.exitValue();
    }

    /**
     * The server the same launcher started next (after a restart), once it wrote {@code server.port} again; delete
     * that file before the restart.
     */
    ChildServer restarted(Path data) {
        String port = Eventually.get(() -> read(data.resolve("server.port"), process), text -> !text.isEmpty());
        return new ChildServer(process, Integer.parseInt(port));
    }

    boolean isAlive() {
        return process.isAlive();
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

    /** Whether the main port refuses a new connection (as it does once a stop has begun). */
    boolean refusesConnections() {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** SIGKILL: no shutdown hook, no clean close of anything. */
    void kill() throws InterruptedException {
        // A launcher script's server is its child: kill that too, or it would outlive the test.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * SIGKILL of the server's JVM alone (started by {@link #start}, not through a launcher), leaving its process
     * cells to notice by themselves, as they must when a server is killed for real.
     */
    void killServerOnly() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, without waiting: {@link #awaitExit} then waits for the stop to finish. */
    void signalTerminate() {
        process.destroy();
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
