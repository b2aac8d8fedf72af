package dev.collab.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/** Polls a condition until it holds or a deadline passes (for state that offers no event to wait on). */
public final class Await {
    public static final Duration DEFAULT = Duration.ofSeconds(10);

    private Await() {
    }

    public static void until(String what, Callable<Boolean> condition) {
        until(what, DEFAULT, condition);
    }

    public static void until(String what, Duration timeout, Callable<Boolean> condition) {
        value(what, timeout, condition, Boolean.TRUE::equals);
    }

    /** Polls {@code probe} until {@code accept} takes its value; returns that value. */
    public static <T> T value(String what, Duration timeout, Callable<T> probe, Predicate<T> accept) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        Exception lastError = null;
        while (true) {
            try {
                last = probe.call();
                lastError = null;
                if (accept.test(last)) {
                    return last;
                }
            } catch (Exception e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline > 0) {
                AssertionError error = new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for "
                        + what + " (last value: " + last + ")", lastError);
                throw error;
            }
            LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
        }
    }
}
