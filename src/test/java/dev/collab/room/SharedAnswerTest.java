package dev.collab.room;

import dev.collab.protocol.EncodedParts;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A connection storm: many fresh clients join one document at once. Their sync step 2 answers are encoded once per
 * protocol for the room's state and the same arrays go to all of them (counting encodes, not timing).
 */
class SharedAnswerTest {
    /** A document of about {@code bytes}: client 7 typing 1 KiB chunks, committed to a state and not merged yet. */
    private static YjsSnapshot document(int bytes) {
        YjsState state = new YjsState(1_000_000, Long.MAX_VALUE, Long.MAX_VALUE, System::nanoTime);
        String chunk = "x".repeat(1024);
        state.committed(1, YTestUpdates.insertText(7, "t", chunk));
        for (int i = 1; i < bytes / 1024; i++) {
            state.committed(i + 1, YTestUpdates.appendAfter(7, (long) i * 1024, 7, (long) i * 1024 - 1, chunk));
        }
        return state.snapshot();
    }

    private static <T> List<T> drain(Iterator<T> it) {
        List<T> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void joinersWithNothingShareOneEncodingPerProtocol() {
        YjsSnapshot snapshot = document(256 * 1024);
        AtomicInteger encodes = new AtomicInteger();
        BiFunction<byte[], Boolean, byte[]> encode = (part, last) -> {
            encodes.incrementAndGet();
            byte[] framed = new byte[part.length + 1];
            framed[0] = (byte) (last ? 2 : 1);
            System.arraycopy(part, 0, framed, 1, part.length);
            return framed;
        };
        List<List<byte[]>> answers = new ArrayList<>();
        for (int joiner = 0; joiner < 200; joiner++) {
            // a fresh Y.Doc's state vector is the single byte 0; JSON catch-ups may have none
            byte[] vector = joiner % 2 == 0 ? new byte[] {0} : null;
            answers.add(drain(EncodedParts.of(new RoomEvent.SyncStep2(snapshot, vector), 1, encode)));
        }
        assertEquals(1, encodes.get(), "one encoding for 200 joiners of the same state");
        for (List<byte[]> a : answers) {
            assertEquals(1, a.size());
            assertSame(answers.getFirst().getFirst(), a.getFirst(), "every joiner is sent the same array");
        }
        byte[] whole = snapshot.missing(null);
        assertArrayEquals(whole, java.util.Arrays.copyOfRange(answers.getFirst().getFirst(), 1, whole.length + 1));

        // another protocol encodes once more, for all of its joiners
        for (int joiner = 0; joiner < 10; joiner++) {
            drain(EncodedParts.of(new RoomEvent.SyncStep2(snapshot, new byte[] {0}), 2, encode));
        }
        assertEquals(2, encodes.get());
    }

    @Test
    void aJoinerWithPartOfTheDocumentGetsItsOwnDiff() {
        YjsSnapshot snapshot = document(64 * 1024);
        byte[] half = YUpdates.stateVector(YTestUpdates.insertText(7, "t", "x".repeat(1024)));
        RoomEvent.SyncStep2 step2 = new RoomEvent.SyncStep2(snapshot, half);
        assertNull(step2.shared());
        AtomicInteger encodes = new AtomicInteger();
        List<byte[]> a = drain(EncodedParts.of(step2, 1, (part, last) -> {
            encodes.incrementAndGet();
            return part;
        }));
        List<byte[]> b = drain(EncodedParts.of(new RoomEvent.SyncStep2(snapshot, half), 1, (part, last) -> {
            encodes.incrementAndGet();
            return part;
        }));
        assertEquals(2, encodes.get());
        assertNotSame(a.getFirst(), b.getFirst());
        assertArrayEquals(YUpdates.diff(snapshot.missing(null), half), a.getFirst());
    }

    @Test
    void aNewStateIsANewSharedAnswer() {
        YjsState state = new YjsState(1_000_000, Long.MAX_VALUE, Long.MAX_VALUE, System::nanoTime);
        state.committed(1, YTestUpdates.insertText(7, "t", "hello"));
        YjsSnapshot first = state.snapshot();
        assertSame(first.sharedAnswer(new byte[] {0}), state.snapshot().sharedAnswer(null), "same state, same answer");
        state.committed(2, YTestUpdates.appendAfter(7, 5, 7, 4, " world"));
        YjsSnapshot second = state.snapshot();
        assertNotNull(second.sharedAnswer(null));
        assertNotSame(first.sharedAnswer(null), second.sharedAnswer(null));
        List<byte[]> parts = second.sharedAnswer(null).encoded(0, (part, last) -> part);
        assertArrayEquals(second.missing(null), parts.getFirst());
    }

    @Test
    void statesAboveTheBoundAreNotHeldTwice() {
        YjsSnapshot large = new YjsSnapshot(new byte[(int) YjsSnapshot.SHARED_ANSWER_BYTES + 1], List.of());
        assertNull(large.sharedAnswer(null), "a state above the bound is cut and encoded per joiner as it is sent");
    }
}
