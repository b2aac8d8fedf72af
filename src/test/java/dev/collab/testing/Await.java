package dev.collab.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * Waiting with a deadline, the one place tests wait: for a future ({@link #result}, {@link #failure}), or polling a
 * condition until it holds (for state that offers no event to wait on: {@link #until}, {@link #value}).
 */
public final class Await {
    public static final Duration DEFAULT = Duration.ofSeconds(10);
    /** How long a future may take (a loaded machine, a PostgreSQL commit) before the test fails. */
    public static final Duration FUTURE = Duration.ofSeconds(30);

    private Await() {
    }

    /** The future's value, as {@code get} gives it (a failure is an ExecutionException), within {@link #FUTURE}. */
    public static <T> T result(CompletableFuture<T> future) throws Exception {
        return future.get(FUTURE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The failure the future completes with (its cause); fails the test if it succeeds or takes too long. */
    public static Throwable failure(CompletableFuture<?> future) {
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> future.get(FUTURE.toMillis(), TimeUnit.MILLISECONDS));
        return e.getCause();
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
