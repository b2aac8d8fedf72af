package dev.collab.yjs;

import dev.collab.testing.YTestUpdates;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A large state cut into parts that, applied in order, are the same document. */
class UpdatePartsTest {

    private static byte[] largeState() {
        List<byte[]> updates = new ArrayList<>();
        String chunk = "p".repeat(3000);
        updates.add(YTestUpdates.insertText(7, "t", chunk));
        for (int i = 1; i < 100; i++) {
            updates.add(YTestUpdates.appendAfter(7, i * 3000L, 7, i * 3000L - 1, chunk));
            updates.add(YTestUpdates.appendAfter(9, (i - 1) * 5L, 7, i * 3000L - 1, "nine!"));
        }
        // a delete set: client 7's first two characters
        updates.add(new Lib0Writer().writeVarUint(0).writeVarUint(1).writeVarUint(7).writeVarUint(1)
                .writeVarUint(0).writeVarUint(2).toByteArray());
        return YUpdates.merge(updates);
    }

    @Test
    void partsApplyToTheSameDocument() {
        byte[] state = largeState();
        List<byte[]> parts = new ArrayList<>();
        YUpdates.parts(state, 20_000).forEachRemaining(parts::add);
        assertTrue(parts.size() >= state.length / 20_000, parts.size() + " parts of " + state.length + " bytes");
        for (byte[] part : parts) {
            YUpdates.validate(part);
            assertTrue(part.length <= 20_000 + 3100, "a part is cut near the size: " + part.length);
        }
        for (int i = 0; i < parts.size() - 1; i++) {
            assertTrue(!deletes(parts.get(i)).hasDeletions(), "the delete set goes with the last part");
        }
        // merged back, the parts are the original update exactly
        assertArrayEquals(YUpdates.merge(List.of(state, YUpdates.EMPTY_UPDATE)), YUpdates.merge(parts));
        assertTrue(deletes(parts.getLast()).hasDeletions());
        assertArrayEquals(YUpdates.stateVector(state), YUpdates.stateVector(YUpdates.merge(parts)));
    }

    private static DeleteSet deletes(byte[] update) {
        return DeleteSet.read(new StructTable(16).readStructs(update));
    }

    @Test
    void aSmallUpdateIsItsOnlyPart() {
        byte[] small = YTestUpdates.insertText(7, "t", "hi");
        Iterator<byte[]> parts = YUpdates.parts(small, 1024);
        assertSame(small, parts.next());
        assertEquals(false, parts.hasNext());
    }
}
