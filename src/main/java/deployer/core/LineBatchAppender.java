package deployer.core;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log's appender: a line per scoring request, written by one thread of its own in batches, so that a
 * request pays for formatting its line and nothing else. Logback's {@code AsyncAppender} in front of a console
 * appender did the same job with a lock and a wake-up of its worker per line, and one {@code write} system call per
 * line (standard output flushes each one): at 50,000 requests a second that was a tenth of the server's throughput
 * (BENCHMARKS.md, row 1).
 *
 * <p>Lines go to standard output, or to {@link #setFile file} when set. When {@link #setCapacity capacity} lines are
 * waiting (the terminal or disk is slower than the traffic) further lines are dropped and counted, rather than
 * requests slowed; the count is reported in the log once the writer catches up. A line waits at most a few
 * milliseconds: the writer sleeps only when nothing is queued, or for 5 ms between batches while lines keep coming.
 */
public final class LineBatchAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private static final int BATCH_BYTES = 64 * 1024;
    private static final long GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private Encoder<ILoggingEvent> encoder;
    private String file;
    private int capacity = 8192;

    private final ConcurrentLinkedQueue<byte[]> lines = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean running;
    private Thread writer;
    private OutputStream out;

    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    /** Appends to this file instead of standard output. */
    public void setFile(String file) {
        this.file = file;
    }

    /** Lines that may wait to be written; past it they are dropped (default 8192). */
    public void setCapacity(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public void start() {
        if (encoder == null) {
            addError("no encoder for appender " + name);
            return;
        }
        try {
            out = file == null ? System.out : new FileOutputStream(file, true);
        } catch (IOException e) {
            addError("cannot open " + file, e);
            return;
        }
        running = true;
        writer = new Thread(this::writeLoop, "access-log-writer");
        writer.setDaemon(true);
        writer.start();
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        int waiting = pending.incrementAndGet();
        if (waiting > capacity) {
            pending.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        lines.add(encoder.encode(event));
        // The writer sleeps only once it has written every line; the first line after that wakes it.
        if (waiting == 1) {
            LockSupport.unpark(writer);
        }
    }

    private void writeLoop() {
        ByteArrayOutputStream batch = new ByteArrayOutputStream(BATCH_BYTES);
        while (true) {
            boolean last = !running;
            int taken = 0;
            byte[] line;
            while ((line = lines.poll()) != null) {
                batch.writeBytes(line);
                taken++;
                if (batch.size() >= BATCH_BYTES) {
                    write(batch);
                }
            }
            write(batch);
            long lost = dropped.getAndSet(0);
            if (lost > 0) {
                batch.writeBytes(("access log: " + lost + " lines dropped: written slower than requests came\n")
                        .getBytes(StandardCharsets.UTF_8));
                write(batch);
            }
            int left = pending.addAndGet(-taken);
            if (last && lines.isEmpty()) {
                return;
            }
            // Idle: sleep until the next line wakes it. Busy: let lines gather for a few milliseconds, so a batch
            // is many lines and one system call, and this thread does not take a core from the requests.
            LockSupport.parkNanos(this, left == 0 && running ? TimeUnit.SECONDS.toNanos(1) : GATHER_NANOS);
        }
    }

    private void write(ByteArrayOutputStream batch) {
        if (batch.size() == 0) {
            return;
        }
        try {
            batch.writeTo(out);
            out.flush();
        } catch (IOException e) {
            addError("access log write failed", e);
        }
        batch.reset();
    }

    @Override
    public void stop() {
        if (!running) {
            return;
        }
        running = false;
        LockSupport.unpark(writer);
        try {
            writer.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (file != null) {
            try {
                out.close();
            } catch (IOException e) {
                addError("closing " + file + " failed", e);
            }
        }
        super.stop();
    }
}
