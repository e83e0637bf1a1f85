package deployer.cell.process;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the hop alone costs (BENCHMARKS.md, rows 16-17): {@code callers} threads exchange frames the size of the
 * trivial model's through a {@link FramePool} with an echo server in this same JVM, over the same Unix socket, for
 * {@code seconds}; prints round trips per second and CPU microseconds per round trip (both ends, syscalls and thread
 * wake-ups included, no scoring). Not a test: run it by hand,
 * {@code java -cp target/test-classes:target/classes:$(cat target/bench/classpath.txt) deployer.cell.process.HopFloor 64 10}.
 */
public final class HopFloor {

    private HopFloor() {
    }

    public static void main(String[] args) throws Exception {
        int callers = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path folder = FrameAddress.newUnixFolder();
        if (folder == null) {
            throw new IllegalStateException("no Unix domain sockets here");
        }
        ServerSocketChannel listening = FrameAddress.bind(folder.toString());
        Thread accept = new Thread(() -> accept(listening), "hop-echo-accept");
        accept.setDaemon(true);
        accept.start();
        FramePool pool = new FramePool(FrameAddress.unix(folder.resolve(FrameAddress.SOCKET)), callers);
        byte[] body = "{\"features\": [5.1, 3.5, 1.4, 0.2]}".getBytes(StandardCharsets.UTF_8);
        Frames.Request request = new Frames.Request(Frames.PREDICT, "application/json",
                List.of("x-request-id", "0123456789abcdef"), body);
        LongAdder done = new LongAdder();
        AtomicBoolean counting = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            Thread t = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        pool.exchange(request, 10_000);
                        if (counting.get()) {
                            done.increment();
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, "hop-caller-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        java.util.concurrent.locks.LockSupport.parkNanos(2_000_000_000L);
        ProcessHandle self = ProcessHandle.current();
        long cpu = self.info().totalCpuDuration().orElseThrow().toNanos();
        long start = System.nanoTime();
        counting.set(true);
        java.util.concurrent.locks.LockSupport.parkNanos(seconds * 1_000_000_000L);
        counting.set(false);
        long elapsed = System.nanoTime() - start;
        long used = self.info().totalCpuDuration().orElseThrow().toNanos() - cpu;
        stop.set(true);
        long n = done.sum();
        System.out.printf("%d callers: %.0f round trips/s, %.1f us CPU per round trip (%.2f cores busy)%n", callers,
                n / (elapsed / 1e9), used / 1e3 / n, (double) used / elapsed);
        pool.close();
        listening.close();
        FrameAddress.deleteQuietly(folder);
    }

    private static void accept(ServerSocketChannel listening) {
        while (listening.isOpen()) {
            try {
                SocketChannel channel = listening.accept();
                Thread t = new Thread(() -> echo(channel), "hop-echo");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void echo(SocketChannel channel) {
        byte[] answer = "{\"label\": \"setosa\", \"score\": 0.97}".getBytes(StandardCharsets.UTF_8);
        try (channel) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel),
                    16 * 1024));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel),
                    16 * 1024));
            for (Frames.Request r = Frames.readRequest(in, 1 << 20); r != null; r = Frames.readRequest(in, 1 << 20)) {
                Frames.write(out, new Frames.Reply(200, "application/json", List.of("x-deployer-version", "1"),
                        answer, false));
            }
        } catch (IOException e) {
            // closed
        }
    }
}
