package dev.collab.room;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs submitted tasks one at a time, in submission order, on a shared executor: the single owner of a room's
 * state. Rooms hold no thread while idle, and different rooms proceed in parallel without a global lock.
 *
 * <p>When the room is idle and the caller is a virtual thread that is not already running room tasks (a
 * connection's reader, typically), the caller runs the tasks itself, up to {@link #INLINE_BUDGET} of them, and hands
 * the rest to the pool. That saves a thread hand-off per inbound message, which on a small machine costs more CPU
 * than the task. Platform threads (the store writer, timers) always hand off: they are shared by every room.
 */
final class SerialExecutor implements Executor {
    private static final System.Logger LOG = System.getLogger(SerialExecutor.class.getName());
    /** Tasks a caller runs before handing the remainder to the pool, so a reader gets back to its socket. */
    static final int INLINE_BUDGET = 32;
    /** Set while a thread runs room tasks: a task that submits to another room must not nest a second drain. */
    private static final ThreadLocal<Boolean> DRAINING = new ThreadLocal<>();

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Executor pool;

    /** Whether the calling thread is running room tasks (it must not wait for a room). */
    static boolean inRoomTask() {
        return DRAINING.get() != null;
    }

    SerialExecutor(Executor pool) {
        this.pool = pool;
    }

    @Override
    public void execute(Runnable task) {
        run(task, true);
    }

    /** Queues a task without ever running it on the calling thread (for callers shared by all rooms: the store). */
    void executeQueued(Runnable task) {
        run(task, false);
    }

    private void run(Runnable task, boolean mayInline) {
        tasks.add(task);
        if (scheduled.compareAndSet(false, true)) {
            if (mayInline && Thread.currentThread().isVirtual() && DRAINING.get() == null) {
                drain(INLINE_BUDGET);
            } else {
                handOff();
            }
        }
    }

    /** The pool runs the queue to its end (the room stays scheduled meanwhile). */
    private void handOff() {
        pool.execute(() -> drain(Integer.MAX_VALUE));
    }

    private void drain(int budget) {
        DRAINING.set(Boolean.TRUE);
        try {
            Runnable task;
            int run = 0;
            while (run < budget && (task = tasks.poll()) != null) {
                run++;
                try {
                    task.run();
                } catch (Throwable t) {
                    LOG.log(System.Logger.Level.ERROR, "room task failed", t);
                }
            }
            if (run == budget && !tasks.isEmpty()) {
                handOff();      // still scheduled: the pool carries on
                return;
            }
        } finally {
            DRAINING.remove();
        }
        scheduled.set(false);
        // a task added between the last poll and the reset would otherwise wait for the next execute()
        if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
            handOff();
        }
    }
}
