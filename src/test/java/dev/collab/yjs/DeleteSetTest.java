package dev.collab.yjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeleteSetTest {
    private static List<String> ranges(DeleteSet ds, long client) {
        List<String> out = new ArrayList<>();
        for (long[] r : ds.ranges(client)) {
            out.add(r[0] + "+" + r[1]);
        }
        return out;
    }

    @Test
    void sortAndMergeJoinsOverlappingAndTouchingRanges() {
        DeleteSet ds = new DeleteSet().add(1, 5, 2).add(1, 0, 3).add(1, 3, 2).add(1, 10, 1).add(1, 7, 1).add(1, 1, 1).add(1, 20, 5).add(1, 21, 1);
        ds.sortAndMerge();
        assertEquals(List.of("0+8", "10+1", "20+5"), ranges(ds, 1));
        assertTrue(ds.isDeleted(1, 0));
        assertTrue(ds.isDeleted(1, 7));
        assertFalse(ds.isDeleted(1, 8));
        assertTrue(ds.isDeleted(1, 24));
        assertFalse(ds.isDeleted(1, 25));
        assertFalse(ds.isDeleted(2, 0));
    }

    @Test
    void mergeUnitesSetsPerClient() {
        DeleteSet a = new DeleteSet().add(9, 4, 2).add(3, 0, 1);
        DeleteSet b = new DeleteSet().add(3, 1, 1).add(9, 0, 4).add(Lib0Reader.MAX_SAFE_INTEGER, 7, 1);
        DeleteSet merged = DeleteSet.merge(List.of(a, b));
        assertEquals(List.of("0+6"), ranges(merged, 9));
        assertEquals(List.of("0+2"), ranges(merged, 3));
        assertEquals(List.of("7+1"), ranges(merged, Lib0Reader.MAX_SAFE_INTEGER));
    }

    @Test
    void mergeMatchesABruteForceUnion() {
        Random rnd = new Random(7);
        for (int round = 0; round < 200; round++) {
            DeleteSet ds = new DeleteSet();
            boolean[] deleted = new boolean[200];
            for (int i = rnd.nextInt(40); i > 0; i--) {
                int clock = rnd.nextInt(150);
                int len = 1 + rnd.nextInt(20);
                ds.add(5, clock, len);
                for (int k = clock; k < clock + len; k++) {
                    deleted[k] = true;
                }
            }
            ds.sortAndMerge();
            List<long[]> rs = ds.ranges(5);
            for (int i = 1; i < rs.size(); i++) {
                assertTrue(rs.get(i - 1)[0] + rs.get(i - 1)[1] < rs.get(i)[0], "ranges stay apart after merging");
            }
            for (int k = 0; k < deleted.length; k++) {
                assertEquals(deleted[k], ds.isDeleted(5, k), "clock " + k);
            }
        }
    }

    @Test
    void encodesClientsInDescendingOrder() {
        DeleteSet ds = new DeleteSet().add(2, 0, 1).add(300, 5, 2).add(2, 4, 1);
        // count 2; client 300 (ac02): 1 range 5+2; client 2: ranges 0+1, 4+1 in insertion order
        assertArrayEquals(new byte[] {2, (byte) 0xac, 2, 1, 5, 2, 2, 2, 0, 1, 4, 1}, ds.encode());
        DeleteSet back = DeleteSet.decode(ds.encode());
        assertEquals(List.of("0+1", "4+1"), ranges(back, 2));
        assertEquals(List.of("5+2"), ranges(back, 300));
    }

    @Test
    void decodeDropsEmptyClientsAndAccumulatesRepeatedOnes() {
        // 3 clients: 7 with no ranges, 8 with 1, 8 again with 1
        DeleteSet ds = DeleteSet.decode(new byte[] {3, 7, 0, 8, 1, 0, 1, 8, 1, 5, 1});
        assertEquals(List.of(), ranges(ds, 7));
        assertEquals(List.of("0+1", "5+1"), ranges(ds, 8));
        assertTrue(new DeleteSet().isEmpty());
        assertFalse(new DeleteSet().add(1, 0, 0).hasDeletions());
    }

    @Test
    void rejectsMalformedEncodings() {
        assertThrows(MalformedException.class, () -> DeleteSet.decode(new byte[0]));
        assertThrows(MalformedException.class, () -> DeleteSet.decode(new byte[] {1, 7}));
        assertThrows(MalformedException.class, () -> DeleteSet.decode(new byte[] {1, 7, 1, 0}));
        assertThrows(MalformedException.class, () -> DeleteSet.decode(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}));
        assertThrows(MalformedException.class, () -> DeleteSet.decode(new byte[] {0, 0}));
        // clock + length beyond 2^53-1
        Lib0Writer w = new Lib0Writer().writeVarUint(1).writeVarUint(1).writeVarUint(1).writeVarUint(Lib0Reader.MAX_SAFE_INTEGER).writeVarUint(1);
        assertThrows(MalformedException.class, () -> DeleteSet.decode(w.toByteArray()));
    }
}
