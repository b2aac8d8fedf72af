package dev.collab.transport;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Keeps repeated refusals out of the log: a key (an origin, a refusal reason) gets at most one line per window;
 * the refusals in between are counted and reported with the next line. Bounded: keys whose window is over are
 * forgotten once many have piled up (a flood of distinct origins cannot grow it without limit).
 */
public final class RefusalLog {
    private static final int FORGET_ABOVE = 1024;

    private record Window(long startNanos, long suppressed) {
    }

    private final long windowNanos;
    private final LongSupplier nanos;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    public RefusalLog(java.time.Duration window, LongSupplier nanos) {
        this.windowNanos = window.toNanos();
        this.nanos = nanos;
    }

    /**
     * A refusal for {@code key}: returns how many were suppressed since its last line (0 or more) when this one
     * is to be logged, or -1 when it is only counted.
     */
    public long admit(String key) {
        long now = nanos.getAsLong();
        long[] result = {-1};
        windows.compute(key, (k, w) -> {
            if (w == null || now - w.startNanos() >= windowNanos) {
                result[0] = w == null ? 0 : w.suppressed();
                return new Window(now, 0);
            }
            return new Window(w.startNanos(), w.suppressed() + 1);
        });
        if (windows.size() > FORGET_ABOVE) {
            for (Iterator<Window> it = windows.values().iterator(); it.hasNext(); ) {
                if (now - it.next().startNanos() >= windowNanos) {
                    it.remove();
                }
            }
        }
        return result[0];
    }
}
