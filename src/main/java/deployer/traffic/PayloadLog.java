package deployer.traffic;

import deployer.core.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sampled request/reply records (DESIGN 1.11): JSON lines under {@code <data>/payloads/<model>/}, in files
 * rotated at an eighth of the cap, the oldest file deleted while a model's records are over the cap
 * ({@code --payload-log-mb}). Records are handed to one background writer through a bounded queue (full: dropped
 * and counted), so nothing is parsed, redacted or written on a request's thread; redaction happens before a byte
 * of the record reaches the file.
 */
final class PayloadLog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PayloadLog.class);
    static final int QUEUE = 1024;
    static final String REDACTED = "***";
    private static final String SUFFIX = ".jsonl";

    /** One request as it was answered, not yet redacted. */
    record Entry(Instant time, int version, String contentType, byte[] request, byte[] reply, String replyType,
                 int status, double ms, List<String> redact) {
    }

    private final Path root;
    private final long capBytes;
    private final long fileBytes;
    private final ThreadPoolExecutor writer;
    private final AtomicLong sequence = new AtomicLong();
    private final Map<String, Path> current = new ConcurrentHashMap<>();
    final LongAdder dropped = new LongAdder();

    /** @param capBytes the most a model's records take on disk */
    PayloadLog(Path root, long capBytes) {
        this.root = root;
        this.capBytes = capBytes;
        this.fileBytes = Math.max(1024, capBytes / 8);
        this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "deployer-payloads");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** Hands one record to the writer; never blocks. */
    void offer(String model, Entry entry) {
        try {
            writer.execute(() -> write(model, entry));
        } catch (RejectedExecutionException full) {
            dropped.increment();
        }
    }

    /** Waits until every record handed in so far is written (tests, a clean stop). */
    void flush() {
        try {
            writer.submit(() -> { }).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("payload writer did not flush: {}", e.toString());
        }
    }

    private void write(String model, Entry entry) {
        try {
            byte[] line = line(entry);
            Path folder = root.resolve(model);
            Files.createDirectories(folder);
            Path file = current.get(model);
            if (file == null || !Files.exists(file) || Files.size(file) + line.length > fileBytes) {
                // Names sort by age: a millisecond time, then a sequence within it.
                file = folder.resolve(String.format("%013d-%06d%s", System.currentTimeMillis(),
                        sequence.incrementAndGet() % 1_000_000, SUFFIX));
                current.put(model, file);
            }
            try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                out.write(line);
            }
            cap(folder, file);
        } catch (IOException | RuntimeException e) {
            log.warn("{} - could not record a payload: {}", model, e.toString());
        }
    }

    /** Deletes the oldest files until the model's records fit the cap (the one being written stays). */
    private void cap(Path folder, Path writing) throws IOException {
        List<Path> files = files(folder);
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        for (Path f : files) {
            if (total <= capBytes || f.equals(writing)) {
                break;
            }
            total -= Files.size(f);
            Files.deleteIfExists(f);
        }
    }

    /** The newest {@code limit} records of a model, newest first. */
    List<Object> read(String model, int limit) {
        List<Object> records = new ArrayList<>();
        Path folder = root.resolve(model);
        if (!Files.isDirectory(folder)) {
            return records;
        }
        try {
            List<Path> files = files(folder);
            for (int i = files.size() - 1; i >= 0 && records.size() < limit; i--) {
                List<String> lines = new ArrayList<>();
                try (BufferedReader in = Files.newBufferedReader(files.get(i), StandardCharsets.UTF_8)) {
                    for (String l = in.readLine(); l != null; l = in.readLine()) {
                        lines.add(l);
                    }
                } catch (java.nio.file.NoSuchFileException deleted) {
                    continue;
                }
                for (int j = lines.size() - 1; j >= 0 && records.size() < limit; j--) {
                    try {
                        records.add(Json.parse(lines.get(j).getBytes(StandardCharsets.UTF_8)));
                    } catch (IOException torn) {
                        // A line cut short by a crash: skipped.
                    }
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("could not read the payload records of " + model, e);
        }
        return records;
    }

    /** Removes a deleted model's records. */
    void forget(String model) {
        current.remove(model);
        writer.execute(() -> deployer.core.FileTrees.delete(root.resolve(model)));
    }

    private static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> list = Files.list(folder)) {
            return list.filter(p -> p.getFileName().toString().endsWith(SUFFIX))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    /** The record as one JSON line, redacted. */
    static byte[] line(Entry e) throws IOException {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("time", e.time().toString());
        record.put("version", e.version());
        record.put("request", redacted(e.request(), e.contentType(), e.redact()));
        record.put("reply", redacted(e.reply(), e.replyType(), e.redact()));
        record.put("status", e.status());
        record.put("ms", Math.round(e.ms() * 1000) / 1000.0);
        byte[] json = Json.write(record);
        byte[] line = new byte[json.length + 1];
        System.arraycopy(json, 0, line, 0, json.length);
        line[json.length] = '\n';
        return line;
    }

    /** The body as JSON with every field named in {@code redact} replaced; a body that is not JSON, as its size. */
    static Object redacted(byte[] body, String contentType, Collection<String> redact) {
        if (body == null) {
            return null;
        }
        Object value;
        try {
            value = Json.parse(body);
        } catch (IOException notJson) {
            return Map.of("content_type", contentType == null ? "" : contentType, "bytes", body.length);
        }
        return redact.isEmpty() ? value : redact(value, redact);
    }

    @SuppressWarnings("unchecked")
    private static Object redact(Object value, Collection<String> fields) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                out.put(key, fields.contains(key) ? REDACTED : redact(e.getValue(), fields));
            }
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object item : list) {
                out.add(redact(item, fields));
            }
            return out;
        }
        return value;
    }

    @Override
    public void close() {
        writer.shutdown();
        try {
            if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("payload records still being written 5 s after the stop");
                writer.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
