package dev.collab.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs an action when a grant expires, so a token's {@code exp} holds for the whole connection, not only at the
 * upgrade. The clock and timer are injected: tests can move time instead of waiting for it.
 */
public final class Expiry {
    /** What {@link #at} returns: cancel it when the connection ends first. */
    public interface Scheduled {
        void cancel();
    }

    private static final Scheduled NEVER = () -> { };

    private final ScheduledExecutorService timer;
    private final Clock clock;

    public Expiry(ScheduledExecutorService timer, Clock clock) {
        this.timer = timer;
        this.clock = clock;
    }

    /** Runs {@code action} at {@code expiresAt} (at once when it has passed); nothing when it is null. */
    public Scheduled at(Instant expiresAt, Runnable action) {
        if (expiresAt == null) {
            return NEVER;
        }
        long delayMillis = Math.max(0, Duration.between(clock.instant(), expiresAt).toMillis());
        ScheduledFuture<?> task = timer.schedule(action, delayMillis, TimeUnit.MILLISECONDS);
        return () -> task.cancel(false);
    }
}
