package dev.collab.webhook;

/** Runs a task after a delay; the server's is its timer, tests use a manual one to move time without sleeping. */
public interface Scheduler {

    void schedule(long delayMillis, Runnable task);

    /** Milliseconds since the epoch, on this scheduler's clock. */
    long nowMillis();

    static Scheduler of(java.util.concurrent.ScheduledExecutorService timer) {
        return new Scheduler() {
            @Override
            public void schedule(long delayMillis, Runnable task) {
                timer.schedule(task, delayMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
            }

            @Override
            public long nowMillis() {
                return System.currentTimeMillis();
            }
        };
    }
}
