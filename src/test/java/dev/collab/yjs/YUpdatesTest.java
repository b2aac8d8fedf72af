package dev.collab.yjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class YUpdatesTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final long C = 7;

    /** One client section followed by the given delete set bytes. */
    private static byte[] update(long client, long clock, int structs, Consumer<Lib0Writer> body, byte[] deleteSet) {
        Lib0Writer w = new Lib0Writer().writeVarUint(1).writeVarUint(structs).writeVarUint(client).writeVarUint(clock);
        body.accept(w);
        return w.writeBytes(deleteSet).toByteArray();
    }

    private static final byte[] NO_DELETES = {0};

    /** A one-character text insertion as a typing client produces it: origin = previous character. */
    private static byte[] typed(long client, long clock, String ch) {
        return update(client, clock, 1, w -> {
            if (clock == 0) {
                w.writeByte(4).writeVarUint(1).writeVarString("t");
            } else {
                w.writeByte(0x84).writeVarUint(client).writeVarUint(clock - 1);
            }
            w.writeVarString(ch);
        }, NO_DELETES);
    }

    /** Every struct and content kind in one update (client 7, clocks 0..20, a Skip at 16..18). */
    static byte[] allKinds() {
        Map<String, Object> any = new LinkedHashMap<>();
        any.put("a", 1L);
        any.put("list", List.of("x", 2.5, Lib0Reader.UNDEFINED, new byte[] {9}));
        return update(C, 0, 13, w -> {
            w.writeByte(4).writeVarUint(1).writeVarString("t").writeVarString("héllo😀"); // 0..6
            w.writeByte(0x86).writeVarUint(C).writeVarUint(6).writeVarString("bold").writeVarString("true"); // 7
            w.writeByte(0x85).writeVarUint(C).writeVarUint(7).writeVarString("{\"image\":\"x.png\"}"); // 8
            w.writeByte(0x81).writeVarUint(C).writeVarUint(8).writeVarUint(3); // 9..11 deleted
            w.writeByte(0x28).writeVarUint(1).writeVarString("m").writeVarString("k").writeVarUint(2).writeAny(any).writeAny("ü"); // 12..13
            w.writeByte(0x03).writeVarUint(1).writeVarString("a").writeVarUint8Array(new byte[] {1, 2, 3}); // 14
            w.writeByte(0x07).writeVarUint(1).writeVarString("x").writeVarUint(3).writeVarString("p"); // 15 XmlElement
            w.writeByte(0x07).writeVarUint(0).writeVarUint(C).writeVarUint(15).writeVarUint(5).writeVarString("hook"); // 16 XmlHook in it
            w.writeByte(0x02).writeVarUint(1).writeVarString("j").writeVarUint(3)
                    .writeVarString("1").writeVarString("undefined").writeVarString("{\"a\":[1]}"); // 17..19 JSON
            w.writeByte(0x29).writeVarUint(1).writeVarString("m").writeVarString("sub").writeVarString("guid-1").writeAny(new LinkedHashMap<>()); // 20 doc
            w.writeByte(0).writeVarUint(2); // 21..22 GC
            w.writeByte(10).writeVarUint(3); // 23..25 skip
            w.writeByte(0x84).writeVarUint(C).writeVarUint(0).writeVarString("z"); // 26
        }, new byte[] {1, (byte) C, 1, 9, 3});
    }

    @Test
    void emptyUpdates() {
        assertArrayEquals(new byte[] {0, 0}, YUpdates.EMPTY_UPDATE);
        assertTrue(YUpdates.isEmpty(YUpdates.EMPTY_UPDATE));
        assertTrue(YUpdates.isEmpty(update(C, 0, 0, w -> { }, NO_DELETES))); // a section without structs
        assertTrue(YUpdates.isEmpty(new byte[] {0, 1, 5, 1, 3, 0})); // a zero-length delete range
        assertFalse(YUpdates.isEmpty(new byte[] {0, 1, 5, 1, 3, 1}));
        assertFalse(YUpdates.isEmpty(typed(C, 0, "a")));
        assertArrayEquals(YUpdates.EMPTY_UPDATE, YUpdates.merge(List.of()));
        assertArrayEquals(YUpdates.EMPTY_UPDATE, YUpdates.merge(List.of(YUpdates.EMPTY_UPDATE, YUpdates.EMPTY_UPDATE)));
        assertArrayEquals(new byte[] {0}, YUpdates.stateVector(YUpdates.EMPTY_UPDATE));
        byte[] one = typed(C, 0, "a");
        assertSame(one, YUpdates.merge(List.of(one)), "like yjs, a single update is returned untouched");
    }

    @Test
    void allContentKindsDecode() {
        byte[] u = allKinds();
        YUpdates.validate(u);
        // the skip stops the contiguous range at 23
        assertEquals(Map.of(C, 23L), YUpdates.decodeStateVector(YUpdates.stateVector(u)));
        assertArrayEquals(u, YUpdates.diff(u, new byte[] {0}), "a diff against nothing copies every struct");
        // cutting at every clock: the cut item is re-encoded with an origin; everything validates, and merging
        // the cut update back into the whole one changes nothing the state vector can see
        for (long k = 0; k <= 27; k++) {
            byte[] d = YUpdates.diff(u, YUpdates.encodeStateVector(Map.of(C, k)));
            YUpdates.validate(d);
            assertEquals(k == 0 ? Map.of(C, 23L) : Map.of(), YUpdates.decodeStateVector(YUpdates.stateVector(d)), "cut at " + k);
            YUpdates.validate(YUpdates.merge(List.of(d, u)));
            assertEquals(Map.of(C, 23L), YUpdates.decodeStateVector(YUpdates.stateVector(YUpdates.merge(List.of(d, u)))), "cut at " + k);
        }
    }

    @Test
    void splittingInsideASurrogatePairWritesReplacementCharacter() {
        // yjs: diffUpdate of "a😀b" (client 2^53-1) against clock 2 starts with U+FFFD (see the generator notes)
        byte[] u = HEX.parseHex("0101ffffffffffffff0f00040101740661f09f98806200");
        byte[] sv = YUpdates.encodeStateVector(Map.of(Lib0Reader.MAX_SAFE_INTEGER, 2L));
        assertEquals("0101ffffffffffffff0f0284ffffffffffffff0f0104efbfbd6200", HEX.formatHex(YUpdates.diff(u, sv)));
        assertEquals("0101ffffffffffffff0f0384ffffffffffffff0f02016200",
                HEX.formatHex(YUpdates.diff(u, YUpdates.encodeStateVector(Map.of(Lib0Reader.MAX_SAFE_INTEGER, 3L)))));
    }

    @Test
    void stateVectorsRoundTripInDescendingClientOrder() {
        Map<Long, Long> sv = new LinkedHashMap<>();
        sv.put(1L, 5L);
        sv.put(Lib0Reader.MAX_SAFE_INTEGER, 1L);
        sv.put(300L, 0L);
        byte[] bytes = YUpdates.encodeStateVector(sv);
        assertEquals("03ffffffffffffff0f01ac02000105", HEX.formatHex(bytes));
        assertEquals(sv, YUpdates.decodeStateVector(bytes));
        assertThrows(MalformedException.class, () -> YUpdates.decodeStateVector(new byte[0]));
        assertThrows(MalformedException.class, () -> YUpdates.decodeStateVector(new byte[] {2, 1, 1}));
        assertThrows(MalformedException.class, () -> YUpdates.decodeStateVector(new byte[] {(byte) 0xff, (byte) 0xff, 0x7f}));
    }

    @Test
    void mergeOrdersClientsDescendingAndFillsGapsWithSkips() {
        byte[] a0 = typed(C, 0, "a");
        byte[] a2 = typed(C, 2, "c");
        byte[] b0 = typed(9, 0, "x");
        byte[] merged = YUpdates.merge(List.of(a2, a0, b0));
        // client 9 first; client 7: item 0, skip 1..1, item 2
        Lib0Writer expected = new Lib0Writer().writeVarUint(2);
        expected.writeVarUint(1).writeVarUint(9).writeVarUint(0).writeBytes(Arrays.copyOfRange(b0, 4, b0.length - 1));
        expected.writeVarUint(3).writeVarUint(C).writeVarUint(0).writeBytes(Arrays.copyOfRange(a0, 4, a0.length - 1))
                .writeByte(10).writeVarUint(1).writeBytes(Arrays.copyOfRange(a2, 4, a2.length - 1));
        expected.writeByte(0);
        assertEquals(HEX.formatHex(expected.toByteArray()), HEX.formatHex(merged));
        assertEquals(Map.of(9L, 1L, C, 1L), YUpdates.decodeStateVector(YUpdates.stateVector(merged)));
        // diff drops what the state vector has and the leading skip
        byte[] rest = YUpdates.diff(merged, YUpdates.encodeStateVector(Map.of(9L, 1L, C, 1L)));
        assertArrayEquals(a2, rest);
    }

    @Test
    void mergeJoinsDeleteSets() {
        byte[] d1 = {0, 1, (byte) C, 2, 5, 1, 0, 2}; // client 7: 5+1, 0+2
        byte[] d2 = {0, 2, 3, 1, 0, 1, (byte) C, 1, 2, 3}; // client 3: 0+1; client 7: 2+3
        // client 7's ranges join into 0+6; clients in descending order
        assertEquals("00020701000603010001", HEX.formatHex(YUpdates.merge(List.of(d1, d2))));
    }

    @Test
    void mergesOneHundredThousandSingleCharacterUpdates() {
        int n = 100_000;
        List<byte[]> updates = new ArrayList<>(n);
        Lib0Writer structs = new Lib0Writer(n * 12);
        long clock = 0;
        for (int i = 0; i < n; i++) {
            String ch = i % 10 == 0 ? "😀" : "x"; // the emoji takes two clocks
            byte[] u = typed(Lib0Reader.MAX_SAFE_INTEGER, clock, ch);
            updates.add(u);
            int header = 1 + 1 + 8 + new Lib0Writer().writeVarUint(clock).length();
            structs.writeBytes(u, header, u.length - header - 1);
            clock += ch.length();
        }
        // nothing merges (yjs never joins decoded items), so the result is every struct in clock order
        byte[] expected = new Lib0Writer().writeVarUint(1).writeVarUint(n).writeVarUint(Lib0Reader.MAX_SAFE_INTEGER).writeVarUint(0)
                .writeBytes(structs.toByteArray()).writeByte(0).toByteArray();

        // timings are printed for information only (target/surefire-reports/*-output.txt), never asserted;
        // thread CPU time is shown too because wall time on a busy machine says little
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long c0 = cpu.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        byte[] merged = YUpdates.merge(updates);
        long t1 = System.nanoTime();
        long c1 = cpu.getCurrentThreadCpuTime();
        assertArrayEquals(expected, merged);
        byte[] half = YUpdates.encodeStateVector(Map.of(Lib0Reader.MAX_SAFE_INTEGER, clock / 2));
        long c2 = cpu.getCurrentThreadCpuTime();
        long t2 = System.nanoTime();
        byte[] diff = YUpdates.diff(merged, half);
        long t3 = System.nanoTime();
        long c3 = cpu.getCurrentThreadCpuTime();
        YUpdates.validate(diff);
        assertEquals(Map.of(Lib0Reader.MAX_SAFE_INTEGER, clock), YUpdates.decodeStateVector(YUpdates.stateVector(merged)));
        System.out.printf("merge of %d single-character updates: %.1f ms (cpu %.1f ms); diff of the result: %.1f ms (cpu %.1f ms)%n",
                n, (t1 - t0) / 1e6, (c1 - c0) / 1e6, (t3 - t2) / 1e6, (c3 - c2) / 1e6);

        Collections.shuffle(updates, new Random(1));
        assertArrayEquals(expected, YUpdates.merge(updates), "input order does not matter for disjoint updates");
    }

    // ---- malformed input

    private static void assertMalformed(byte[] update, String why) {
        try {
            YUpdates.validate(update);
        } catch (MalformedException expected) {
            return;
        }
        fail("accepted " + why + ": " + HEX.formatHex(update));
    }

    @Test
    void rejectsTruncatedUpdatesAndTrailingGarbage() {
        byte[] u = allKinds();
        for (int len = 0; len < u.length; len++) {
            assertMalformed(Arrays.copyOf(u, len), "a prefix of " + len + " bytes");
        }
        byte[] trailing = Arrays.copyOf(u, u.length + 1);
        assertMalformed(trailing, "trailing bytes");
        // yjs ignores bytes after the delete set when merging; so does merge
        assertArrayEquals(YUpdates.merge(List.of(u, YUpdates.EMPTY_UPDATE)), YUpdates.merge(List.of(trailing, YUpdates.EMPTY_UPDATE)));
    }

    @Test
    void rejectsBadStructsAndContents() {
        for (int ref = 11; ref < 32; ref++) {
            int info = ref;
            assertMalformed(update(C, 0, 1, w -> w.writeByte(info).writeVarUint(1).writeVarString("t").writeVarUint(1), NO_DELETES), "content ref " + ref);
        }
        assertMalformed(update(C, 0, 1, w -> w.writeByte(0x4a).writeVarUint(1).writeVarUint(0).writeVarUint(1), NO_DELETES), "skip with flag bits");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(7).writeVarUint(1).writeVarString("t").writeVarUint(7), NO_DELETES), "type ref 7");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(4).writeVarUint(1).writeVarString("t").writeVarString(""), NO_DELETES), "empty string item");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(0).writeVarUint(0), NO_DELETES), "zero-length GC");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(8).writeVarUint(1).writeVarString("t").writeVarUint(0), NO_DELETES), "empty any item");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(5).writeVarUint(1).writeVarString("t").writeVarString("{x}"), NO_DELETES), "embed JSON");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(5).writeVarUint(1).writeVarString("t").writeVarString("undefined"), NO_DELETES), "embed undefined");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(2).writeVarUint(1).writeVarString("t").writeVarUint(1).writeVarString("[1,"), NO_DELETES), "JSON content");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(6).writeVarUint(1).writeVarString("t").writeVarString("b").writeVarString(""), NO_DELETES), "format value");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(9).writeVarUint(1).writeVarString("t").writeVarString("g").writeAny(null), NO_DELETES), "subdoc opts null");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(8).writeVarUint(1).writeVarString("t").writeVarUint(1).writeByte(115), NO_DELETES), "any tag 115");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(4).writeVarUint(1).writeVarString("t").writeVarUint(2).writeByte(0xc3).writeByte(0x28), NO_DELETES), "invalid UTF-8");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(4).writeVarUint(1).writeVarUint(3).writeBytes(HEX.parseHex("eda080")).writeVarString("x"), NO_DELETES), "encoded surrogate in a key");
        assertMalformed(update(C, Lib0Reader.MAX_SAFE_INTEGER, 1, w -> w.writeByte(0).writeVarUint(1), NO_DELETES), "clock overflow");
        assertMalformed(HEX.parseHex("0101808080808080801000000100"), "client id 2^53");
        assertMalformed(new byte[] {1, 1, 7, 0, (byte) 0x84, 7}, "truncated origin");
    }

    @Test
    void rejectsAbsurdCountsWithoutAllocating() {
        long huge = Lib0Reader.MAX_SAFE_INTEGER;
        assertMalformed(new Lib0Writer().writeVarUint(huge).toByteArray(), "2^53 sections");
        assertMalformed(new Lib0Writer().writeVarUint(1).writeVarUint(huge).writeVarUint(1).writeVarUint(0).toByteArray(), "2^53 structs");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(8).writeVarUint(1).writeVarString("t").writeVarUint(huge), NO_DELETES), "2^53 any values");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(8).writeVarUint(1).writeVarString("t").writeVarUint(1).writeByte(117).writeVarUint(1L << 40), NO_DELETES), "2^40 array elements");
        assertMalformed(update(C, 0, 1, w -> w.writeByte(3).writeVarUint(1).writeVarString("t").writeVarUint(Integer.MAX_VALUE), NO_DELETES), "2 GB binary");
        assertMalformed(new Lib0Writer().writeVarUint(0).writeVarUint(huge).toByteArray(), "2^53 delete set clients");
        assertMalformed(new Lib0Writer().writeVarUint(0).writeVarUint(1).writeVarUint(1).writeVarUint(huge).toByteArray(), "2^53 delete ranges");
    }

    @Test
    void acceptsWhatYjsTolerates() {
        // GC flag bits are ignored by yjs (and normalised when re-encoded)
        byte[] gc = update(C, 0, 1, w -> w.writeByte(0x80).writeVarUint(2), NO_DELETES);
        YUpdates.validate(gc);
        assertEquals("01010700000200", HEX.formatHex(YUpdates.diff(gc, new byte[] {0})));
        // deeply nested any values (no recursion limit in lib0 either)
        byte[] deep = update(C, 0, 1, w -> {
            w.writeByte(8).writeVarUint(1).writeVarString("t").writeVarUint(1);
            for (int i = 0; i < 10_000; i++) {
                w.writeByte(117).writeVarUint(1);
            }
            w.writeByte(126);
        }, NO_DELETES);
        assertDoesNotThrow(() -> YUpdates.validate(deep));
        assertArrayEquals(deep, YUpdates.diff(deep, new byte[] {0}));
    }

    /** Random and mutated input: every function either works or throws MalformedException — nothing else, no OOM. */
    @Test
    void fuzzNeverThrowsAnythingButMalformed() {
        List<byte[]> seeds = List.of(allKinds(), typed(C, 0, "a"), typed(C, 3, "😀"),
                YUpdates.merge(List.of(typed(C, 0, "a"), typed(C, 2, "b"), allKinds())), new byte[] {0, 1, 7, 2, 0, 1, 5, 3});
        byte[] sv = YUpdates.encodeStateVector(Map.of(C, 5L, 9L, 1L));
        int accepted = 0;
        int rejected = 0;
        for (int seed = 0; seed < 20_000; seed++) {
            Random rnd = new Random(seed);
            byte[] input;
            if (seed % 4 == 0) {
                input = new byte[rnd.nextInt(64)];
                rnd.nextBytes(input);
            } else {
                input = mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
            }
            boolean valid;
            try {
                YUpdates.validate(input);
                valid = true;
                accepted++;
            } catch (MalformedException e) {
                valid = false;
                rejected++;
            }
            byte[] in = input;
            for (Runnable op : List.<Runnable>of(
                    () -> YUpdates.stateVector(in),
                    () -> YUpdates.diff(in, sv),
                    () -> YUpdates.diff(seeds.get(0), in),
                    () -> YUpdates.isEmpty(in),
                    () -> YUpdates.merge(List.of(in, seeds.get(0))),
                    () -> YUpdates.decodeStateVector(in))) {
                try {
                    op.run();
                } catch (MalformedException e) {
                    // fine
                } catch (Throwable t) {
                    throw new AssertionError("seed " + seed + " input " + HEX.formatHex(in), t);
                }
            }
            if (valid) {
                // whatever validates can be merged and cut, and the results validate again
                byte[] merged = YUpdates.merge(List.of(in, seeds.get(0)));
                YUpdates.validate(merged);
                YUpdates.validate(YUpdates.diff(in, sv));
            }
        }
        assertTrue(accepted > 100 && rejected > 100, "fuzz covers both outcomes: " + accepted + " accepted, " + rejected + " rejected");
    }

    private static byte[] mutate(byte[] base, Random rnd) {
        byte[] b = base.clone();
        int edits = 1 + rnd.nextInt(3);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(5)) {
                case 0 -> b[at] = (byte) rnd.nextInt(256);
                case 1 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
                case 2 -> b = Arrays.copyOf(b, at);
                case 3 -> {
                    byte[] c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, at);
                    c[at] = (byte) rnd.nextInt(256);
                    System.arraycopy(b, at, c, at + 1, b.length - at);
                    b = c;
                }
                default -> b[at] = (byte) (rnd.nextBoolean() ? 0xff : 0x00);
            }
        }
        return b;
    }
}
