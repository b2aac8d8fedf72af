package dev.collab.webhook;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Virtual time for tests: tasks run only when the test advances the clock past them, on the test's thread. */
final class ManualScheduler implements Scheduler {
    private record Task(long at, long order, Runnable run) {
    }

    private final List<Task> tasks = new ArrayList<>();
    private long now;
    private long order;

    ManualScheduler(long startMillis) {
        this.now = startMillis;
    }

    @Override
    public synchronized void schedule(long delayMillis, Runnable task) {
        tasks.add(new Task(now + delayMillis, order++, task));
    }

    @Override
    public synchronized long nowMillis() {
        return now;
    }

    synchronized int pending() {
        return tasks.size();
    }

    /** Moves the clock to {@code target}, running every task due by then in time order. */
    void advanceTo(long target) {
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.stream().filter(t -> t.at() <= target)
                        .min(Comparator.comparingLong(Task::at).thenComparingLong(Task::order)).orElse(null);
                if (next == null) {
                    now = Math.max(now, target);
                    return;
                }
                tasks.remove(next);
                now = Math.max(now, next.at());
            }
            next.run().run();
        }
    }

    void advanceBy(long millis) {
        advanceTo(nowMillis() + millis);
    }
}
