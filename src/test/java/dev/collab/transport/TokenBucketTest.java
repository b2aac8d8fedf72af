package dev.collab.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-connection message rate limiter, on a clock the test moves. */
class TokenBucketTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(123_456_789L);

    private int takeAll(TokenBucket bucket) {
        int n = 0;
        while (bucket.tryTake()) {
            n++;
            if (n > 1_000_000) {
                throw new AssertionError("bucket never runs dry");
            }
        }
        return n;
    }

    @Test
    void startsFullWithTheBurst() {
        TokenBucket b = new TokenBucket(10, 20, now::get);
        assertEquals(20, takeAll(b));
        assertFalse(b.tryTake());
    }

    @Test
    void refillsAtTheRate() {
        TokenBucket b = new TokenBucket(10, 20, now::get);
        takeAll(b);
        now.addAndGet(SECOND / 10 - 1);
        assertFalse(b.tryTake(), "just under one token's worth of time");
        now.addAndGet(1);
        assertTrue(b.tryTake(), "one token after 1/rate seconds");
        assertFalse(b.tryTake());
        now.addAndGet(SECOND);
        assertEquals(10, takeAll(b), "rate tokens per second");
    }

    @Test
    void neverHoldsMoreThanTheBurst() {
        TokenBucket b = new TokenBucket(10, 20, now::get);
        takeAll(b);
        now.addAndGet(3600 * SECOND);
        assertEquals(20, takeAll(b));
    }

    @Test
    void fractionsOfATokenAccumulate() {
        TokenBucket b = new TokenBucket(3, 3, now::get);
        takeAll(b);
        // three polls a third of a token apart: the refused polls must not lose the accumulated time
        long third = SECOND / 3 / 3 + 1;
        assertFalse(b.tryTake());
        now.addAndGet(third);
        assertFalse(b.tryTake());
        now.addAndGet(third);
        assertFalse(b.tryTake());
        now.addAndGet(third);
        assertTrue(b.tryTake());
    }

    @Test
    void sustainedRateOverAMinuteMatches() {
        TokenBucket b = new TokenBucket(50, 100, now::get);
        int granted = 0;
        // a client hammering every millisecond for 60 s gets the burst plus 60 s of the rate
        for (int ms = 0; ms < 60_000; ms++) {
            if (b.tryTake()) {
                granted++;
            }
            now.addAndGet(SECOND / 1000);
        }
        assertTrue(Math.abs(granted - (100 + 50 * 60)) <= 1, "granted " + granted);
    }

    @Test
    void slowClientsAreNeverLimited() {
        TokenBucket b = new TokenBucket(5, 10, now::get);
        for (int i = 0; i < 10_000; i++) {
            assertTrue(b.tryTake(), "message " + i);
            now.addAndGet(SECOND / 5);
        }
    }

    @Test
    void worksAcrossTheNanoTimeWrapAround() {
        // System.nanoTime may be any value, including near overflow; only differences count
        now.set(Long.MAX_VALUE - SECOND / 2);
        TokenBucket b = new TokenBucket(10, 10, now::get);
        assertEquals(10, takeAll(b));
        now.addAndGet(SECOND);          // wraps to a negative value
        assertTrue(now.get() < 0);
        assertEquals(10, takeAll(b));
    }

    @Test
    void aRateOfOneWithBurstTwo() {
        // the smallest configuration the settings allow (messages-per-second = 1, burst = 2x)
        TokenBucket b = new TokenBucket(1, 2, now::get);
        assertEquals(2, takeAll(b));
        now.addAndGet(SECOND / 2);
        assertFalse(b.tryTake());
        now.addAndGet(SECOND / 2);
        assertTrue(b.tryTake());
        assertFalse(b.tryTake());
    }
}
