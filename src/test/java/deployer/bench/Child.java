package deployer.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A server in a child JVM: the deployer (from its jar, or this class path) or any other jar. */
final class Child implements AutoCloseable {

    private final Process process;

    private Child(Process process) {
        this.process = process;
    }

    /** {@code java <jvm> -jar <jar> <args>}, or {@code -cp <this class path> deployer.Main} without a jar. */
    static Child deployer(Options options, List<String> jvm, List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(jvm);
        // -Dbench.childJvm="-XX:StartFlightRecording=filename=child.jfr" profiles the child servers.
        String extra = System.getProperty("bench.childJvm", "").trim();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        if (options.jar().isPresent()) {
            command.addAll(List.of("-jar", options.jar().get().toString()));
        } else {
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), "deployer.Main"));
        }
        command.addAll(args);
        return start(command, log);
    }

    static Child start(List<String> command, Path log) throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("DEPLOYER_ACCESS_LOG", "OFF");
        return new Child(builder.start());
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Polls {@code GET path} every few milliseconds until it answers 200; fails if the process ends first. */
    void awaitAnswer(int port, String path, String token, long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the child exited with " + process.exitValue() + " before answering");
            }
            if (status(port, path, token) == 200) {
                return;
            }
            Load.sleep(2);
        }
        throw new IOException("no answer on port " + port + " within " + timeoutMs + " ms");
    }

    private static int status(int port, String path, String token) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] line = in.readNBytes(12);
            return line.length == 12 ? Integer.parseInt(new String(line, 9, 3, StandardCharsets.US_ASCII)) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Waits for {@code file} to hold a port number (the deployer writes {@code server.port}). */
    int awaitPortFile(Path file, long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the child exited with " + process.exitValue());
            }
            if (Files.exists(file)) {
                String text = Files.readString(file).trim();
                if (!text.isEmpty()) {
                    return Integer.parseInt(text);
                }
            }
            Load.sleep(10);
        }
        throw new IOException("no " + file + " within " + timeoutMs + " ms");
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
