package deployer.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of scoring bodies the server holds at once, across every model and port ({@code --scoring-memory-mb}).
 * A body takes its share before a byte of it is buffered (all of its {@code Content-Length}, or chunk by chunk as
 * it arrives when it has none) and gives it back once, when its request is answered.
 */
final class ScoringMemory {

    private final long capacity;
    private final AtomicLong used = new AtomicLong();

    ScoringMemory(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("--scoring-memory-mb: must be positive");
        }
        this.capacity = capacity;
    }

    /** Takes {@code bytes} if they fit; false, taking nothing, when they do not. */
    boolean tryReserve(long bytes) {
        long now;
        do {
            now = used.get();
            if (now + bytes > capacity) {
                return false;
            }
        } while (!used.compareAndSet(now, now + bytes));
        return true;
    }

    void release(long bytes) {
        if (bytes > 0) {
            used.addAndGet(-bytes);
        }
    }

    long used() {
        return used.get();
    }

    long capacity() {
        return capacity;
    }
}
