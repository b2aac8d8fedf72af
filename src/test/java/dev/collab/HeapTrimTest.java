package dev.collab;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When the server asks for a collection to give the heap back: once after each burst, never while idle. */
class HeapTrimTest {
    private final AtomicLong collections = new AtomicLong();
    private final AtomicLong trims = new AtomicLong();
    private final AtomicLong committed = new AtomicLong(400L << 20);
    private final HeapTrim trim = new HeapTrim(collections::get, committed::get, () -> {
        trims.incrementAndGet();
        collections.addAndGet(2);       // the trim's own collection counts too (pause + concurrent cycle)
        committed.set(100L << 20);      // and gives the heap back
    });

    private void check() {
        if (trim.due()) {
            trim.run();
        }
    }

    @Test
    void anIdleServerIsNeverCollected() {
        for (int i = 0; i < 1000; i++) {
            check();
        }
        assertEquals(0, trims.get());
    }

    @Test
    void oneTrimAfterEachBurstOnceTheCollectorIsQuiet() {
        for (int i = 0; i < 10; i++) {          // a burst: the collector runs between every check
            collections.incrementAndGet();
            check();
        }
        assertEquals(0, trims.get(), "nothing while the burst goes on");
        check();
        assertEquals(1, trims.get(), "one trim after a quiet period");
        for (int i = 0; i < 100; i++) {
            check();
        }
        assertEquals(1, trims.get(), "its own collection is not a new burst");
        collections.incrementAndGet();
        check();
        assertEquals(1, trims.get(), "not while the collector runs");
        check();
        assertEquals(1, trims.get(), "a collection that did not grow the heap (an idle server's ping round) is left alone");
        committed.set(300L << 20);
        collections.incrementAndGet();
        check();
        check();
        assertEquals(2, trims.get(), "the next burst that grew the heap gets its trim");
    }
}
