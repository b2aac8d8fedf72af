package dev.collab.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Virtual time for the server's timers: a {@link ScheduledExecutorService} whose tasks run only when the test
 * {@link #advance advances} the clock past them, in time order, on the test's thread, and the matching
 * {@link #nanoTime} for the code that measures how long something has been quiet. Heartbeats, unload delays and
 * retry back-offs are then tested by moving time, not by sleeping.
 */
public final class ManualTimer extends AbstractExecutorService implements ScheduledExecutorService {
    private final List<Task<?>> tasks = new ArrayList<>();
    private long now = 1_000_000_000L;      // not 0, so "0 = never" sentinels in the code under test stay apart
    private long order;
    private boolean shutdown;

    /** The virtual clock, in nanoseconds; pass {@code timer::nanoTime} where the code takes a nano clock. */
    public synchronized long nanoTime() {
        return now;
    }

    /** Tasks scheduled and not yet run or cancelled. */
    public synchronized int pending() {
        return (int) tasks.stream().filter(t -> !t.isDone()).count();
    }

    /** Moves the clock forward by {@code by}, running every task due by then (periodic ones again and again). */
    public void advance(Duration by) {
        long target;
        synchronized (this) {
            target = now + by.toNanos();
        }
        while (true) {
            Task<?> next;
            synchronized (this) {
                tasks.removeIf(Task::isDone);
                next = tasks.stream().filter(t -> t.at <= target)
                        .min(Comparator.<Task<?>>comparingLong(t -> t.at).thenComparingLong(t -> t.order)).orElse(null);
                if (next == null) {
                    now = target;
                    return;
                }
                tasks.remove(next);
                now = Math.max(now, next.at);
            }
            next.runOnce();
        }
    }

    /** Runs what is due now (tasks submitted with no delay). */
    public void runDue() {
        advance(Duration.ZERO);
    }

    private synchronized <V> Task<V> add(Task<V> task) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("timer shut down");
        }
        tasks.add(task);
        return task;
    }

    private synchronized void requeue(Task<?> task) {
        if (!shutdown) {
            tasks.add(task);
        }
    }

    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        private long at;
        private final long order;
        private final long period;   // 0: once; > 0: fixed rate; < 0: fixed delay

        Task(Callable<V> callable, long at, long period) {
            super(callable);
            this.at = at;
            this.period = period;
            synchronized (ManualTimer.this) {
                this.order = ManualTimer.this.order++;
            }
        }

        void runOnce() {
            if (period == 0) {
                run();
            } else if (runAndReset()) {
                at = period > 0 ? at + period : nanoTime() - period;
                requeue(this);
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(at - nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(new Task<>(java.util.concurrent.Executors.callable(command), nanoTime() + unit.toNanos(delay), 0));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return add(new Task<>(callable, nanoTime() + unit.toNanos(delay), 0));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return add(new Task<>(java.util.concurrent.Executors.callable(command), nanoTime() + unit.toNanos(initialDelay),
                unit.toNanos(period)));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return add(new Task<>(java.util.concurrent.Executors.callable(command), nanoTime() + unit.toNanos(initialDelay),
                -unit.toNanos(delay)));
    }

    /** Runs at the next {@link #advance} or {@link #runDue}, like a task scheduled with no delay. */
    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(tasks);
        tasks.clear();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown && tasks.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }
}
