package dev.collab.room;

import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Yjs state and its merge policy on their own: no threads, no store, a clock the test moves. */
class YjsStateTest {
    private final AtomicLong nanos = new AtomicLong();

    private YjsState state(int compactionUpdates, long compactionBytes, long maxDocumentBytes) {
        return new YjsState(compactionUpdates, compactionBytes, maxDocumentBytes, nanos::get);
    }

    /** Client 7 typing {@code count} chunks of {@code chunk} characters at the end of text "t". */
    private static List<byte[]> typing(int count, int chunk) {
        List<byte[]> updates = new ArrayList<>(count);
        String text = "x".repeat(chunk);
        updates.add(YTestUpdates.insertText(7, "t", text));
        for (int i = 1; i < count; i++) {
            updates.add(YTestUpdates.appendAfter(7, (long) i * chunk, 7, (long) i * chunk - 1, text));
        }
        return updates;
    }

    /** Commits every update, running each merge the policy asks for at once; returns the bytes committed. */
    private static long feed(YjsState state, List<byte[]> updates) {
        long bytes = 0;
        long seq = 0;
        for (byte[] u : updates) {
            state.committed(++seq, u);
            bytes += u.length;
            YjsState.MergeJob job = state.startMerge();
            if (job != null) {
                byte[] merged = YUpdates.merge(job.inputs(), true);
                state.merged(job, merged);
                state.stored(job, merged);
            }
        }
        return bytes;
    }

    @Test
    void totalMergeWorkIsLinearInTheDocumentsGrowth() {
        // 400 pastes of 8 KiB with a 64 KiB threshold: merging at every threshold would read ~10 MiB per MiB of
        // document at the end (quadratic); the geometric policy reads at most 3x what was added
        YjsState large = state(500, 64 << 10, Long.MAX_VALUE);
        List<byte[]> pastes = typing(400, 8 << 10);
        long pasted = feed(large, pastes);
        assertTrue(large.mergedInputBytes() <= 3 * (pasted + 400L * YjsState.UPDATE_WEIGHT),
                "merged " + large.mergedInputBytes() + " bytes for " + pasted + " committed");
        long everyThreshold = 0;
        for (long size = 64 << 10; size <= pasted; size += 64 << 10) {
            everyThreshold += size;
        }
        assertTrue(large.mergedInputBytes() * 5 < everyThreshold, "far below a fixed threshold's " + everyThreshold);

        // many tiny updates: the per-update weight keeps the count threshold linear too
        YjsState typed = state(500, 4 << 20, Long.MAX_VALUE);
        long typedBytes = feed(typed, typing(20_000, 1));
        assertTrue(typed.mergedInputBytes() <= 3 * (typedBytes + 20_000L * YjsState.UPDATE_WEIGHT),
                "merged " + typed.mergedInputBytes() + " bytes for " + typedBytes + " committed");
        assertTrue(typed.mergedInputBytes() > 0, "tiny updates are merged too");

        // nothing lost: the state is the whole text
        assertEquals(Map.of(7L, 400L * (8 << 10)), YUpdates.decodeStateVector(
                YUpdates.stateVector(large.snapshot().missing(null))));
        assertEquals(Map.of(7L, 20_000L), YUpdates.decodeStateVector(typed.stateVector()));
        assertTrue(large.pendingUpdates() < 400, "the log was merged");
    }

    @Test
    void theStateVectorIsKeptWithoutMerging() {
        YjsState state = state(500, 4 << 20, Long.MAX_VALUE);
        byte[] a = YTestUpdates.insertText(7, "t", "abc");
        byte[] b = YTestUpdates.appendAfter(7, 3, 7, 2, "de");
        byte[] gap = YTestUpdates.appendAfter(9, 5, 7, 1, "z");     // client 9's clocks 0..4 never arrived
        byte[] other = YTestUpdates.insertText(11, "u", "q");
        List<byte[]> all = List.of(a, b, gap, other, b);           // b twice: duplicates change nothing
        long seq = 0;
        for (byte[] u : all) {
            state.committed(++seq, u);
            assertArrayEquals(YUpdates.stateVector(YUpdates.merge(all.subList(0, (int) seq))), state.stateVector());
        }
        assertEquals(Map.of(7L, 5L, 11L, 1L), YUpdates.decodeStateVector(state.stateVector()));
        byte[] filled = YTestUpdates.appendAfter(9, 0, 7, 0, "01234");
        state.committed(++seq, filled);
        assertEquals(Map.of(7L, 5L, 9L, 6L, 11L, 1L), YUpdates.decodeStateVector(state.stateVector()));
    }

    @Test
    void updatesCommittedWhileAMergeRunsStayAfterIt() {
        YjsState state = state(2, 4 << 20, Long.MAX_VALUE);
        List<byte[]> text = typing(4, 3);
        state.committed(1, text.get(0));
        state.committed(2, text.get(1));
        YjsState.MergeJob job = state.startMerge();
        assertNotNull(job);
        assertEquals(2, job.upToSeq());
        state.committed(3, text.get(2));
        assertNull(state.startMerge(), "one merge at a time");
        byte[] merged = YUpdates.merge(job.inputs(), true);
        state.merged(job, merged);
        state.stored(job, merged);
        assertEquals(1, state.pendingUpdates());
        assertEquals(2, state.storedRows());
        assertEquals(merged.length + text.get(2).length, state.storedBytes());
        assertEquals(Map.of(7L, 9L), YUpdates.decodeStateVector(YUpdates.stateVector(state.snapshot().missing(null))));
    }

    @Test
    void aFailedMergeBacksOffInsteadOfRetryingOnEveryUpdate() {
        YjsState state = state(2, 4 << 20, Long.MAX_VALUE);
        List<byte[]> text = typing(6, 2);
        state.committed(1, text.get(0));
        state.committed(2, text.get(1));
        assertTrue(state.failed(state.startMerge()), "the first failure is the one to log");
        state.committed(3, text.get(2));
        assertNull(state.startMerge(), "no retry within the first second");
        nanos.addAndGet(1_000_000_000L);
        YjsState.MergeJob second = state.startMerge();
        assertNotNull(second);
        assertFalse(state.failed(second), "a failure in a row is not logged again");
        nanos.addAndGet(1_000_000_000L);
        state.committed(4, text.get(3));
        assertNull(state.startMerge(), "the delay doubled to 2 s");
        nanos.addAndGet(1_000_000_000L);
        YjsState.MergeJob third = state.startMerge();
        byte[] merged = YUpdates.merge(third.inputs(), true);
        state.merged(third, merged);
        state.stored(third, merged);
        assertEquals(0, state.pendingUpdates());
        state.committed(5, text.get(4));
        state.committed(6, text.get(5));
        assertTrue(state.failed(state.startMerge()), "after a success the next failure is logged again");
    }

    @Test
    void admitsWritesUpToTheMaximumDocumentSize() {
        YjsState state = state(500, 4 << 20, 100);
        byte[] first = YTestUpdates.insertText(7, "t", "x".repeat(60));
        assertTrue(state.admits(first.length));
        state.committed(1, first);
        byte[] second = YTestUpdates.appendAfter(7, 60, 7, 59, "y".repeat(30));
        assertFalse(state.admits(second.length), first.length + second.length + " > 100");
        assertTrue(state.admits(100 - state.documentBytes()));
        assertFalse(state.admits(101 - state.documentBytes()));
    }

    @Test
    void aLoadedLogStartsWithItsFirstRowAsTheMergedState() {
        YjsState state = state(3, 4 << 20, Long.MAX_VALUE);
        List<byte[]> text = typing(3, 2);
        byte[] compacted = YUpdates.merge(text.subList(0, 2), true);
        state.load(2, compacted);
        state.load(3, text.get(2));
        assertEquals(1, state.pendingUpdates());
        assertEquals(2, state.storedRows());
        assertEquals(compacted.length + text.get(2).length, state.documentBytes());
        assertEquals(Map.of(7L, 6L), YUpdates.decodeStateVector(state.stateVector()));
        assertArrayEquals(YUpdates.merge(List.of(compacted, text.get(2)), true), state.snapshot().missing(null));
    }
}
