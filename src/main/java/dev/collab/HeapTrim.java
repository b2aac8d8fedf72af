package dev.collab;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Gives the heap back after a burst (a large paste, a merge of a large document, thousands of handshakes): once
 * the collector has been quiet for a check period after collecting, one concurrent collection runs
 * ({@code System.gc()} with {@code -XX:+ExplicitGCInvokesConcurrent}, set by the launcher), after which G1 shrinks the
 * heap to {@code MaxHeapFreeRatio}. Only a burst that grew the heap gets one: the committed heap must be more than
 * {@link #GROWTH_BYTES} above what the last trim left (an idle server's occasional young collection, after a ping
 * round, does not start a concurrent cycle of the whole heap). Then nothing more until the collector runs again.
 *
 * <p>This replaces G1's own periodic collection ({@code G1PeriodicGCInterval=2000}), which ran a concurrent cycle
 * every 2 s for as long as the server was idle, whatever the heap held: 4.7 % of a core (the "G1 Conc" thread) for
 * 5,000 idle connections, measured per thread, for heap that had long been given back.
 */
final class HeapTrim {
    private static final System.Logger LOG = System.getLogger(HeapTrim.class.getName());
    /** How often the collectors' counts are read; a trim follows one quiet period after the last collection. */
    static final long CHECK_MILLIS = 1_000;
    /** How far the committed heap must have grown since the last trim for the next one. */
    static final long GROWTH_BYTES = 16L << 20;

    private final LongSupplier collections;
    private final LongSupplier committed;
    private final Runnable collect;
    private long seen;
    private boolean collectedSinceTrim;
    private long committedAfterTrim;

    HeapTrim(LongSupplier collections, LongSupplier committed, Runnable collect) {
        this.collections = collections;
        this.committed = committed;
        this.collect = collect;
        this.seen = collections.getAsLong();
    }

    /**
     * Checks every {@link #CHECK_MILLIS} on {@code timer}; the collection itself runs on its own thread. Only when
     * {@code System.gc()} is a concurrent G1 cycle (the launcher's options): a JVM started otherwise (the tests,
     * other collector options) is left to its collector.
     */
    static void schedule(ScheduledExecutorService timer) {
        if (!concurrentExplicitGc()) {
            return;
        }
        List<GarbageCollectorMXBean> beans = ManagementFactory.getGarbageCollectorMXBeans();
        LongSupplier count = () -> {
            long n = 0;
            for (GarbageCollectorMXBean b : beans) {
                n += Math.max(0, b.getCollectionCount());
            }
            return n;
        };
        java.lang.management.MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        HeapTrim trim = new HeapTrim(count, () -> memory.getHeapMemoryUsage().getCommitted(), System::gc);
        boolean[] running = new boolean[1];
        timer.scheduleWithFixedDelay(() -> {
            synchronized (running) {
                if (running[0] || !trim.due()) {
                    return;
                }
                running[0] = true;
            }
            Thread.ofPlatform().name("collab-heap-trim").daemon().start(() -> {
                try {
                    trim.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "heap trim failed", e);
                } finally {
                    synchronized (running) {
                        running[0] = false;
                    }
                }
            });
        }, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }

    private static boolean concurrentExplicitGc() {
        try {
            com.sun.management.HotSpotDiagnosticMXBean vm =
                    ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return "true".equals(vm.getVMOption("UseG1GC").getValue())
                    && "true".equals(vm.getVMOption("ExplicitGCInvokesConcurrent").getValue())
                    && "false".equals(vm.getVMOption("DisableExplicitGC").getValue());
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * One check: true when the collector ran since the last trim and has been quiet since the previous check (the
     * burst is over), and the heap grew by {@link #GROWTH_BYTES} since the last trim.
     */
    synchronized boolean due() {
        long now = collections.getAsLong();
        if (now != seen) {
            seen = now;
            collectedSinceTrim = true;
            return false;       // still collecting: wait for a quiet period
        }
        return collectedSinceTrim && committed.getAsLong() > committedAfterTrim + GROWTH_BYTES;
    }

    /** The trim: one collection; what it counts is ours, not a new burst. */
    void run() {
        collect.run();
        synchronized (this) {
            seen = collections.getAsLong();
            collectedSinceTrim = false;
            committedAfterTrim = committed.getAsLong();
        }
    }
}
