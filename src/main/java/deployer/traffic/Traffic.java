package deployer.traffic;

import deployer.core.DeployerException;
import deployer.cell.CellResponse;
import deployer.cell.CellManager;
import deployer.cell.CellRequest;
import deployer.cell.ModelSlot;
import deployer.cell.ScoringTap;
import deployer.cell.VersionChoice;
import deployer.store.ChangeKind;
import deployer.store.Deployment;
import deployer.store.Store;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Traffic between a model's versions (DESIGN 1.11): per model one immutable {@link Route} swapped by reference, so a
 * split change is atomic for every request; pins ({@code X-Deployer-Version}); a health watch over the versions in a
 * split (one that fails its pings gives its share to the active version until it answers again, event
 * {@code traffic}); shadow scoring ({@link Shadows}) and payload records ({@link PayloadLog}), both told of a request
 * only once its answer is sent.
 *
 * <p>The split of a model is read from the database in one place, {@link #reload}, so a replica can follow a change
 * made elsewhere by calling it.
 */
public final class Traffic implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Traffic.class);
    public static final String VERSION_HEADER = "X-Deployer-Version";
    static final long HEALTH_TIMEOUT_MS = 5_000;

    private final CellManager cells;
    private final Store store;
    private final TrafficStore records;
    private final Shadows shadows;
    private final PayloadLog payloadLog;
    private final long pingIntervalMs;
    private final int pingFailures;
    private final ScheduledExecutorService scheduler;
    private final Map<String, ModelTraffic> models = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Per model, the active deploy_id the payload settings were last read for. */
    private final Map<String, Long> seenActive = new ConcurrentHashMap<>();
    private volatile RandomGenerator random;

    /**
     * @param random where the rolls come from (a seeded one in tests); null for {@code ThreadLocalRandom}
     * @param payloadCapBytes the most one model's payload records take on disk ({@code --payload-log-mb})
     */
    public Traffic(CellManager cells, Store store, javax.sql.DataSource dataSource, Path data, long pingIntervalMs,
                   int pingFailures, long payloadCapBytes, ShadowMeter meter, RandomGenerator random) {
        this.cells = cells;
        this.store = store;
        this.records = new TrafficStore(dataSource);
        this.shadows = new Shadows(meter);
        this.payloadLog = new PayloadLog(data.resolve("payloads"), payloadCapBytes);
        this.pingIntervalMs = pingIntervalMs;
        this.pingFailures = pingFailures;
        this.random = random;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deployer-traffic");
            t.setDaemon(true);
            return t;
        });
        cells.whenDeleted(this::forget);
        // Replicas on one database (DESIGN 1.12): a split changed through another server reaches this one.
        cells.whenFollowed(this::follow);
    }

    /** Replaces the source of rolls: a seeded one makes a test's splits repeatable. */
    public void random(RandomGenerator source) {
        this.random = source;
    }

    private RandomGenerator rolls() {
        RandomGenerator r = random;
        return r != null ? r : java.util.concurrent.ThreadLocalRandom.current();
    }

    /** Reads every stored split back (after a restart) and starts watching the versions in them. */
    public void restore() {
        for (String model : records.modelsWithSplit()) {
            try {
                reload(model);
            } catch (RuntimeException e) {
                log.warn("{} - could not restore its traffic split: {}", model, e.toString());
            }
        }
        for (var record : store.models()) {
            // Payload settings of the API, or of the active version's deploy.json.
            try {
                if (cells.slot(record.name()).isPresent()) {
                    reloadPayloads(record.name());
                }
            } catch (RuntimeException e) {
                log.warn("{} - could not restore its payload settings: {}", record.name(), e.toString());
            }
        }
        scheduler.scheduleWithFixedDelay(this::watch, pingIntervalMs, pingIntervalMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Loads the model's split from the database and makes it the one requests follow: the one method a change feed
     * of replicas calls when another server changed it. Versions it names that are not serving (yet) are skipped by
     * requests until they are; nothing is retired here.
     */
    public void reload(String model) {
        if (cells.slot(model).isEmpty()) {
            models.remove(model);
            return;
        }
        Split split = records.split(model).orElse(Split.NONE);
        state(model).apply(split);
    }

    /**
     * A replica's step for one model after its cells followed the rows ({@link CellManager#whenFollowed}): the
     * split stored now becomes the route here when it differs from the one followed, and so do the payload
     * settings. The versions it names are
     * started beside the active one by the cells' own following (every READY version serves beside); until they
     * answer, their share goes to the active version. Versions that left it were RETIRED by the deciding server,
     * which this replica's cells follow too.
     */
    void follow(String model) {
        if (cells.slot(model).isEmpty()) {
            models.remove(model);
            return;
        }
        Split split = records.split(model).orElse(Split.NONE);
        PayloadSettings payloads = records.payloads(model).orElseGet(() -> manifestPayloads(model));
        ModelTraffic traffic = state(model);
        synchronized (traffic) {
            if (!split.equals(traffic.split)) {
                traffic.apply(split);
                log.info("{} - traffic followed from the database: {}", model, split.isNone() ? "all to the active"
                        + " version" : describe(split, traffic.slot.activeVersion()));
            }
            if (!payloads.equals(traffic.payloads)) {
                // each replica records what it serves, in its own data folder
                traffic.payloads = payloads;
                traffic.tapIfNeeded();
                log.info("{} - payload records followed from the database: sample {}, redact {}", model,
                        payloads.sample(), payloads.redact());
            }
        }
    }

    /**
     * The version one request goes to: the one it pins ({@code X-Deployer-Version}, 400 if not a number), else what
     * the model's split rolls.
     */
    public VersionChoice choice(ModelSlot slot, String pinned) {
        if (pinned != null) {
            Integer version = Split.version(pinned.trim());
            if (version == null) {
                throw DeployerException.badRequest(VERSION_HEADER + ": must be a version number (1, 2, 3 ...), not "
                        + pinned);
            }
            return VersionChoice.pinned(version);
        }
        ModelTraffic traffic = models.get(slot.name());
        // A model deleted and uploaded again has a new slot: the old one's split is not its.
        return traffic == null || traffic.slot != slot || traffic.route.get().isActiveOnly() ? VersionChoice.ACTIVE
                : traffic;
    }

    /** {@code GET /api/models/{name}/traffic}. */
    public Map<String, Object> get(String model) {
        ModelSlot slot = slot(model);
        return view(slot, state(model));
    }

    /**
     * {@code PUT /api/models/{name}/traffic}: every version named must be serving (READY), else 409 naming it; the
     * new route is swapped in whole, then versions that left it (and are not active) are RETIRED.
     */
    public Map<String, Object> put(String model, Split split) {
        ModelSlot slot = slot(model);
        ModelTraffic traffic = state(model);
        synchronized (traffic) {
            int active = slot.activeVersion();
            if (active == 0) {
                throw DeployerException.conflict("model " + model + " has no version READY; a split needs its active"
                        + " version serving");
            }
            for (int v : split.versions()) {
                if (!slot.serves(v)) {
                    throw DeployerException.conflict("version " + v + " of " + model + " is not READY ("
                            + describe(model, v) + "); upload it with ?activate=false and wait for READY, then name"
                            + " it in the split");
                }
            }
            Split before = traffic.split;
            records.putSplit(model, split);
            traffic.apply(split);
            retireLeaving(model, slot, before, split);
            store.event(model, null, null, "traffic", "traffic set: " + describe(split, active));
        }
        cells.decided(ChangeKind.TRAFFIC, model);
        return view(slot, traffic);
    }

    /** {@code DELETE /api/models/{name}/traffic}: all to the active version; the others of the split RETIRED. */
    public Map<String, Object> clear(String model) {
        return put(model, Split.NONE);
    }

    private void retireLeaving(String model, ModelSlot slot, Split before, Split after) {
        Set<Integer> leaving = new TreeSet<>(before.versions());
        leaving.removeAll(after.versions());
        leaving.remove(slot.activeVersion());
        for (int v : leaving) {
            cells.retireBeside(model, v);
            store.event(model, v, null, "traffic", "version " + v + " left the traffic split: RETIRED");
        }
    }

    /** {@code PUT /api/models/{name}/payloads}. */
    public Map<String, Object> putPayloads(String model, PayloadSettings settings) {
        slot(model);
        records.putPayloads(model, settings);
        ModelTraffic traffic = state(model);
        traffic.payloads = settings;
        traffic.tapIfNeeded();
        store.event(model, null, null, "payloads", "payload records: sample " + settings.sample() + ", redact "
                + settings.redact());
        cells.decided(ChangeKind.TRAFFIC, model);
        return payloadView(model);
    }

    public Map<String, Object> payloadView(String model) {
        PayloadSettings settings = state(model).payloads;
        Map<String, Object> view = new LinkedHashMap<>(settings.view());
        view.put("dropped", payloadLog.dropped.sum());
        return view;
    }

    /** {@code GET /api/models/{name}/payloads?limit=}: the newest records first. */
    public List<Object> payloads(String model, int limit) {
        slot(model);
        return payloadLog.read(model, limit);
    }

    /** Waits until the payload records handed in so far are on disk. */
    public void flushPayloads() {
        payloadLog.flush();
    }

    /**
     * Reads the payload settings: those set through the API, else the active version's deploy.json
     * {@code "payloads"} ({@code manifestSettings}).
     */
    public void reloadPayloads(String model) {
        PayloadSettings settings = records.payloads(model).orElseGet(() -> manifestPayloads(model));
        ModelTraffic traffic = state(model);
        traffic.payloads = settings;
        traffic.tapIfNeeded();
    }

    private PayloadSettings manifestPayloads(String model) {
        Optional<Deployment> active = store.model(model).map(m -> m.activeDeployId())
                .flatMap(id -> id == null ? Optional.empty() : store.deployment(id));
        if (active.isEmpty() || active.get().manifest() == null) {
            return PayloadSettings.OFF;
        }
        try {
            Object manifest = deployer.core.Json.parse(active.get().manifest().getBytes(
                    java.nio.charset.StandardCharsets.UTF_8));
            Object p = manifest instanceof Map<?, ?> m ? m.get("payloads") : null;
            return p == null ? PayloadSettings.OFF : PayloadSettings.parse(p, "payloads.");
        } catch (java.io.IOException | DeployerException e) {
            return PayloadSettings.OFF;
        }
    }

    /** A model was deleted: its split, stats and records go. */
    public void forget(String model) {
        models.remove(model);
        shadows.forget(model);
        payloadLog.forget(model);
    }

    private ModelSlot slot(String model) {
        return cells.slot(model).orElseThrow(() -> DeployerException.notFound("no model named '" + model
                + "'; GET /api/models lists them"));
    }

    /** The model's traffic, made anew when the model's slot is not the one it was made for (deleted, uploaded). */
    private ModelTraffic state(String model) {
        ModelSlot slot = slot(model);
        return models.compute(model, (name, now) -> now != null && now.slot == slot ? now
                : new ModelTraffic(name, slot));
    }

    private String describe(String model, int version) {
        return store.deployments(model).stream().filter(d -> d.version() == version).findFirst()
                .map(d -> "it is " + d.state() + (d.error() == null ? "" : ": " + d.error()))
                .orElse("there is no such version");
    }

    private static String describe(Split split, int active) {
        StringBuilder text = new StringBuilder();
        int rest = 100;
        for (var e : split.weights().entrySet()) {
            text.append("v").append(e.getKey()).append(' ').append(e.getValue()).append("%, ");
            rest -= e.getValue();
        }
        text.append("active v").append(active).append(" the rest (").append(rest).append("%)");
        if (split.shadow() != null) {
            text.append("; shadow v").append(split.shadow().version()).append(' ')
                    .append(split.shadow().percent()).append('%');
        }
        return text.toString();
    }

    private Map<String, Object> view(ModelSlot slot, ModelTraffic traffic) {
        Split split = traffic == null ? Split.NONE : traffic.split;
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("model", slot.name());
        view.put("active", slot.activeVersion() == 0 ? null : slot.activeVersion());
        view.put("split", split.weightsView());
        view.put("shadow", split.shadow() == null ? null : Map.of("version", split.shadow().version(), "percent",
                split.shadow().percent()));
        Set<Integer> serving = new TreeSet<>(slot.besideVersions());
        if (slot.activeVersion() != 0) {
            serving.add(slot.activeVersion());
        }
        view.put("serving", List.copyOf(serving));
        view.put("down", traffic == null ? List.of() : List.copyOf(new TreeSet<>(traffic.down)));
        Shadows.Tally tally = shadows.tally(slot.name());
        Map<String, Object> agreement = new LinkedHashMap<>();
        agreement.put("same", tally.same.sum());
        agreement.put("different", tally.different.sum());
        agreement.put("error", tally.error.sum());
        agreement.put("dropped", tally.dropped.sum());
        view.put("shadow_outcomes", agreement);
        view.put("differences", tally.differences());
        return view;
    }

    /** One round of the health watch over the versions of every split that are not the active one. */
    private void watch() {
        if (closed.get()) {
            return;
        }
        try {
            // A newly active version may bring its own deploy.json "payloads".
            for (var record : store.models()) {
                Long active = record.activeDeployId();
                if (active != null && !active.equals(seenActive.put(record.name(), active))
                        && cells.slot(record.name()).isPresent()) {
                    reloadPayloads(record.name());
                }
            }
        } catch (RuntimeException e) {
            log.warn("payload settings round failed: {}", e.toString());
        }
        for (ModelTraffic traffic : models.values()) {
            try {
                traffic.watch();
            } catch (RuntimeException e) {
                log.warn("{} - traffic health round failed: {}", traffic.model, e.toString());
            }
        }
    }

    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        scheduler.shutdownNow();
        shadows.close();
        payloadLog.close();
    }

    /** One model's traffic: its split, the route requests read, the versions found down, its tap. */
    private final class ModelTraffic implements VersionChoice, ScoringTap {
        final String model;
        final ModelSlot slot;
        volatile Split split = Split.NONE;
        final AtomicReference<Route> route = new AtomicReference<>(Route.ACTIVE);
        final Set<Integer> down = ConcurrentHashMap.newKeySet();
        final Map<Integer, Integer> failures = new ConcurrentHashMap<>();
        volatile PayloadSettings payloads = PayloadSettings.OFF;

        ModelTraffic(String model, ModelSlot slot) {
            this.model = model;
            this.slot = slot;
        }

        @Override
        public int version() {
            return route.get().pick(rolls());
        }

        /** Makes {@code next} the split requests follow: one new route, swapped in whole. */
        synchronized void apply(Split next) {
            split = next;
            down.retainAll(next.weights().keySet());
            failures.keySet().retainAll(next.versions());
            slot.keep(next.versions());
            route.set(Route.of(next.weights(), down));
            tapIfNeeded();
        }

        void tapIfNeeded() {
            slot.tap(split.shadow() != null || payloads.sample() > 0 ? this : null);
        }

        @Override
        public void answered(int version, CellRequest request, CellResponse answer, int status, byte[] sent, long nanos) {
            Split.Shadow shadow = split.shadow();
            RandomGenerator r = rolls();
            if (shadow != null && version != shadow.version() && status < 500 && r.nextInt(100) < shadow.percent()) {
                shadows.offer(slot, shadow.version(), request, answer, version);
            }
            PayloadSettings p = payloads;
            if (p.sample() > 0 && (p.sample() >= 1 || r.nextDouble() < p.sample())) {
                payloadLog.offer(model, new PayloadLog.Entry(Instant.now(), version,
                        request.contentType(), request.body(), sent, answer.contentType(), status, nanos / 1e6,
                        p.redact()));
            }
        }

        /** Pings the versions of the split beside the active one; moves shares when one goes down or comes back. */
        void watch() {
            if (cells.slot(model).orElse(null) != slot || split.weights().isEmpty()) {
                return;
            }
            int active = slot.activeVersion();
            for (int v : split.weights().keySet()) {
                if (v == active) {
                    continue;
                }
                Object status = slot.healthOf(v, HEALTH_TIMEOUT_MS).get("status");
                boolean up = "UP".equals(status);
                if (up) {
                    failures.remove(v);
                    if (down.remove(v)) {
                        reroute();
                        store.event(model, v, null, "traffic", "version " + v + " answers its pings again: it takes"
                                + " its share of the split back");
                        log.info("{} v{} - answers its pings again; takes its share of the split back", model, v);
                    }
                } else {
                    int failed = failures.merge(v, 1, Integer::sum);
                    if (failed >= pingFailures && down.add(v)) {
                        reroute();
                        store.event(model, v, null, "traffic", "version " + v + " failed " + failed + " pings in a"
                                + " row: its share goes to the active version v" + active + " until it recovers");
                        log.warn("{} v{} - failed {} pings in a row; its share goes to the active version", model, v,
                                failed);
                    }
                }
            }
        }

        /** The route again, with the versions found down now: before anything is said of the change. */
        private synchronized void reroute() {
            route.set(Route.of(split.weights(), down));
        }
    }
}
