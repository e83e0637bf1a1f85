package deployer.metrics;

import deployer.cell.CellObserver;
import deployer.cell.ModelSnapshot;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The server's meters, in one Micrometer registry scraped as Prometheus text: per model and version the requests
 * by status, their latency histogram and the requests in flight; per model load time, ping failures, restarts and
 * state; per server uploads, bytes received, deploy durations, and the JVM's memory, threads and GC.
 */
public final class Metrics implements CellObserver, AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Stats stats = new Stats();
    /** Set by {@link #bindJvm}: its GC listeners are removed on close. */
    private volatile JvmGcMetrics gc;
    private volatile CompletableFuture<Void> jvmMeters;
    private final MultiGauge state;
    private final MultiGauge healthy;
    private final MultiGauge inFlight;
    private final MultiGauge version;
    private volatile Supplier<List<ModelSnapshot>> models = List::of;
    /** Cells sharing a model and version (a restart's fresh cell beside the old one) share their meters. */
    private final Map<Tags, AtomicInteger> users = new ConcurrentHashMap<>();

    public Metrics() {
        state = MultiGauge.builder("deployer.model.state").description("1 for the state the model is in")
                .register(registry);
        healthy = MultiGauge.builder("deployer.model.healthy")
                .description("1 when the model's cell answers its pings").register(registry);
        inFlight = MultiGauge.builder("deployer.requests.in.flight")
                .description("requests being scored now").register(registry);
        version = MultiGauge.builder("deployer.model.active.version")
                .description("the version that serves").register(registry);
    }

    /**
     * Registers the JVM's meters (memory, threads, class loading, CPU, uptime, GC) on a thread of their own, off the
     * start-up path: they load the JDK's management beans, ~0.1 s that the first answer need not wait for. A scrape
     * waits for them.
     */
    public synchronized void bindJvmMeters() {
        if (jvmMeters == null) {
            jvmMeters = CompletableFuture.runAsync(this::bindJvm, task -> new Thread(task, "deployer-jvm-meters").start());
        }
    }

    private void bindJvm() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics collections = new JvmGcMetrics();
        collections.bindTo(registry);
        gc = collections;
    }

    /** Where the per-model gauges read from, at every scrape; and the count of unloaded but uncollected loaders. */
    public void watch(Supplier<List<ModelSnapshot>> snapshot, IntSupplier unloadedButReachable) {
        this.models = snapshot;
        // A strong reference: Micrometer holds a gauge's object weakly, and nothing else holds this lambda, so the
        // first collection turned the gauge into NaN.
        Gauge.builder("deployer.cells.unloaded.reachable", unloadedButReachable, IntSupplier::getAsInt)
                .strongReference(true)
                .description("class loaders of unloaded cells not yet collected").register(registry);
    }

    /** The Prometheus text exposition of every meter, gauges refreshed first. */
    public String scrape() {
        CompletableFuture<Void> jvm = jvmMeters;
        if (jvm != null) {
            jvm.join();
        }
        List<ModelSnapshot> now = models.get();
        List<MultiGauge.Row<?>> states = new ArrayList<>();
        List<MultiGauge.Row<?>> health = new ArrayList<>();
        List<MultiGauge.Row<?>> load = new ArrayList<>();
        List<MultiGauge.Row<?>> versions = new ArrayList<>();
        for (ModelSnapshot m : now) {
            states.add(MultiGauge.Row.of(Tags.of("model", m.model(), "state", m.state()), 1));
            health.add(MultiGauge.Row.of(Tags.of("model", m.model()), m.healthy() ? 1 : 0));
            load.add(MultiGauge.Row.of(Tags.of("model", m.model()), m.inFlight()));
            if (m.version() != null) {
                versions.add(MultiGauge.Row.of(Tags.of("model", m.model()), m.version()));
            }
        }
        state.register(states, true);
        healthy.register(health, true);
        inFlight.register(load, true);
        version.register(versions, true);
        return registry.scrape();
    }

    public Stats stats() {
        return stats;
    }

    /** An upload was answered with {@code status} after reading {@code bytes}. */
    public void upload(int status, long bytes) {
        Counter.builder("deployer.uploads").description("package uploads by outcome")
                .tag("outcome", status < 300 ? "accepted" : status == 401 ? "unauthorized" : "rejected")
                .register(registry).increment();
        DistributionSummary.builder("deployer.upload.bytes").baseUnit("bytes")
                .description("bytes of upload request bodies received").register(registry).record(bytes);
    }

    @Override
    public RequestMeter cell(String model, int version) {
        return new CellMeter(model, version);
    }

    @Override
    public void loaded(String model, int version, long nanos) {
        Timer.builder("deployer.cell.load").description("time load() took").tag("model", model)
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void started(String model, boolean ready, long nanos) {
        Timer.builder("deployer.deploy").description("from upload (or start) to READY or FAILED")
                .tag("outcome", ready ? "ready" : "failed").register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void pingFailed(String model) {
        Counter.builder("deployer.ping.failures").description("failed pings of serving cells").tag("model", model)
                .register(registry).increment();
    }

    @Override
    public void restarted(String model) {
        Counter.builder("deployer.restarts").description("cells replaced by a fresh cell of the same version")
                .tag("model", model).register(registry).increment();
    }

    @Override
    public void close() {
        CompletableFuture<Void> jvm = jvmMeters;
        if (jvm != null) {
            jvm.join();
        }
        if (gc != null) {
            gc.close();
        }
        registry.close();
    }

    @Override
    public void versionDeleted(String model, int version) {
        removeSeries(Tags.of("model", model, "version", Integer.toString(version)));
        stats.forget(model, version);
    }

    /** One shadow copy's outcome (DESIGN 1.11): {@code deployer_shadow_total{model,version,outcome}}. */
    public void shadow(String model, int version, String outcome) {
        registry.counter("deployer.shadow", "model", model, "version", Integer.toString(version), "outcome", outcome)
                .increment();
    }

    @Override
    public void modelDeleted(String model) {
        removeSeries(Tags.of("model", model));
        stats.forget(model);
    }

    private void removeSeries(Tags tags) {
        List<Meter> gone = new ArrayList<>(registry.find("deployer.request.duration").tags(tags).meters());
        gone.addAll(registry.find("deployer.requests").tags(tags).meters());
        gone.addAll(registry.find("deployer.batch.size").tags(tags).meters());
        gone.addAll(registry.find("deployer.batch.queue.wait").tags(tags).meters());
        gone.forEach(registry::remove);
    }

    /**
     * The meters of one cell, looked up once: the latency timer and, per status, a counter made on first use. Its
     * series outlive the cell — after a rollback the retired version's counts still add up — and go when the version
     * is deleted ({@link #versionDeleted}), so with {@code --keep-versions} they do not pile up.
     */
    private final class CellMeter implements RequestMeter {

        private final String model;
        private final int version;
        private final Tags tags;
        private final Timer latency;
        private final AtomicReferenceArray<Counter> byStatus = new AtomicReferenceArray<>(600);
        private volatile DistributionSummary batchSize;
        private volatile Timer queueWait;

        CellMeter(String model, int version) {
            this.model = model;
            this.version = version;
            this.tags = Tags.of("model", model, "version", Integer.toString(version));
            users.computeIfAbsent(tags, t -> new AtomicInteger()).incrementAndGet();
            this.latency = Timer.builder("deployer.request.duration").description("scoring latency")
                    .tags(tags).publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(10_000))
                    .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
        }

        @Override
        public void record(int status, long nanos) {
            latency.record(nanos, TimeUnit.NANOSECONDS);
            int code = status >= 100 && status < 600 ? status : 500;
            Counter counter = byStatus.get(code);
            if (counter == null) {
                counter = Counter.builder("deployer.requests").description("scoring requests by status")
                        .tags(tags).tag("status", Integer.toString(code)).register(registry);
                byStatus.set(code, counter);
            }
            counter.increment();
            stats.record(model, status, nanos);
        }

        @Override
        public void batch(int size, long[] waitedNanos) {
            batchSize().record(size);
            stats.batch(model, version, size);
            Timer wait = queueWait();
            for (long nanos : waitedNanos) {
                wait.record(nanos, TimeUnit.NANOSECONDS);
            }
        }

        // Made on the first batch: a model without batching has no batch series.
        private DistributionSummary batchSize() {
            DistributionSummary summary = batchSize;
            if (summary == null) {
                summary = DistributionSummary.builder("deployer.batch.size").description("requests per scoreBatch call")
                        .tags(tags).serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
                        .register(registry);
                batchSize = summary;
            }
            return summary;
        }

        private Timer queueWait() {
            Timer timer = queueWait;
            if (timer == null) {
                timer = Timer.builder("deployer.batch.queue.wait").description("time a request waited for its batch")
                        .tags(tags).register(registry);
                queueWait = timer;
            }
            return timer;
        }

        @Override
        public void close() {
            AtomicInteger count = users.get(tags);
            if (count == null || count.decrementAndGet() > 0) {
                return;
            }
            users.remove(tags, count);
        }
    }
}
