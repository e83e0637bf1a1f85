package deployer.metrics;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One model's requests over the last minutes, in fixed buckets of time: counts, errors and a log-scale latency
 * histogram per bucket, so p50 and p99 of any span can be read back. Recording is lock-free: a bucket is an array
 * of counters, replaced by compare-and-set when its time has passed.
 */
final class Window {

    /** Histogram bins: four per doubling, from 1 µs up to about 70 s; the last bin takes anything slower. */
    static final int BINS = 4 * 26 + 1;

    private final long bucketNanos;
    private final AtomicReferenceArray<Bucket> buckets;

    /** Counters of one span of time; {@code epoch} says which. */
    static final class Bucket {
        final long epoch;
        final AtomicLongArray bins = new AtomicLongArray(BINS);
        final AtomicLongArray counts = new AtomicLongArray(3);

        Bucket(long epoch) {
            this.epoch = epoch;
        }

        long requests() {
            return counts.get(0);
        }

        long errors() {
            return counts.get(1);
        }

        /** Answers 4xx other than 408 and 429: the client's fault, counted apart from the server's errors. */
        long clientErrors() {
            return counts.get(2);
        }
    }

    Window(long bucketNanos, int buckets) {
        this.bucketNanos = bucketNanos;
        this.buckets = new AtomicReferenceArray<>(buckets);
    }

    void record(long nowNanos, int status, long nanos) {
        long epoch = Math.floorDiv(nowNanos, bucketNanos);
        int index = (int) Math.floorMod(epoch, (long) buckets.length());
        Bucket bucket = buckets.get(index);
        while (bucket == null || bucket.epoch != epoch) {
            if (bucket != null && bucket.epoch > epoch) {
                return;
            }
            Bucket fresh = new Bucket(epoch);
            if (buckets.compareAndSet(index, bucket, fresh)) {
                bucket = fresh;
            } else {
                bucket = buckets.get(index);
            }
        }
        bucket.counts.incrementAndGet(0);
        if (status >= 500 || status == 429 || status == 408) {
            bucket.counts.incrementAndGet(1);
        } else if (status >= 400) {
            bucket.counts.incrementAndGet(2);
        }
        bucket.bins.incrementAndGet(bin(nanos));
    }

    /** The bucket that covered {@code epoch}, or null when nothing was recorded then. */
    Bucket at(long epoch) {
        Bucket bucket = buckets.get((int) Math.floorMod(epoch, (long) buckets.length()));
        return bucket != null && bucket.epoch == epoch ? bucket : null;
    }

    long epochOf(long nowNanos) {
        return Math.floorDiv(nowNanos, bucketNanos);
    }

    static int bin(long nanos) {
        double micros = Math.max(1.0, nanos / 1000.0);
        int bin = (int) Math.floor(4 * Math.log(micros) / Math.log(2));
        return Math.min(BINS - 1, Math.max(0, bin));
    }

    /** The upper edge of a bin in milliseconds: what a percentile falling in it is reported as. */
    static double binMillis(int bin) {
        return Math.pow(2, (bin + 1) / 4.0) / 1000.0;
    }

    /** The {@code quantile} (0-1) of the summed bins, in ms; NaN when there is nothing. */
    static double quantile(long[] bins, double quantile) {
        long total = 0;
        for (long b : bins) {
            total += b;
        }
        if (total == 0) {
            return Double.NaN;
        }
        long rank = (long) Math.ceil(quantile * total);
        long seen = 0;
        for (int i = 0; i < bins.length; i++) {
            seen += bins[i];
            if (seen >= rank) {
                return binMillis(i);
            }
        }
        return binMillis(bins.length - 1);
    }
}
