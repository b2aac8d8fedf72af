package dev.collab.yjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link YUpdates#compact}: which adjacent items are joined and which are not, on hand-built updates. That yjs
 * cannot tell a coalesced update from the original is checked against the real yjs on the reference fixtures
 * ({@link YjsReferenceTest}) and, in Node, on a 100,000-character document ({@link YjsNodeIT}).
 */
class CompactTest {
    private static final HexFormat HEX = HexFormat.of();
    static final long C = 7;
    static final long D = 9;
    static final byte[] NO_DELETES = {0};

    /** One struct as the body of a client section. */
    interface Struct extends Consumer<Lib0Writer> {
    }

    /** An update with one client section per entry of {@code sections}: {client, first clock, structs...}. */
    static byte[] update(byte[] deleteSet, Object[]... sections) {
        Lib0Writer w = new Lib0Writer().writeVarUint(sections.length);
        for (Object[] s : sections) {
            w.writeVarUint(s.length - 2).writeVarUint((Long) s[0]).writeVarUint((Long) s[1]);
            for (int k = 2; k < s.length; k++) {
                ((Struct) s[k]).accept(w);
            }
        }
        return w.writeBytes(deleteSet).toByteArray();
    }

    static Object[] section(long client, long clock, Struct... structs) {
        Object[] s = new Object[structs.length + 2];
        s[0] = client;
        s[1] = clock;
        System.arraycopy(structs, 0, s, 2, structs.length);
        return s;
    }

    /** A string item at the start of root text "t" (no origins). */
    static Struct rootString(String s) {
        return w -> w.writeByte(0x04).writeVarUint(1).writeVarString("t").writeVarString(s);
    }

    /** A string item after (oc, ok), optionally before (rc, rk) (rc &lt; 0: no right origin). */
    static Struct string(long oc, long ok, long rc, long rk, String s) {
        return w -> {
            w.writeByte(0x84 | (rc >= 0 ? 0x40 : 0)).writeVarUint(oc).writeVarUint(ok);
            if (rc >= 0) {
                w.writeVarUint(rc).writeVarUint(rk);
            }
            w.writeVarString(s);
        };
    }

    static Struct after(long oc, long ok, String s) {
        return string(oc, ok, -1, 0, s);
    }

    static long structCount(byte[] update) {
        StructTable t = new StructTable(16);
        t.readStructs(update);
        return t.size;
    }

    static void assertUnchanged(byte[] u, String why) {
        assertSame(u, YUpdates.compact(u), why);
    }

    @Test
    void typingOneCharacterPerUpdateJoinsIntoOneItem() {
        String text = "héllo 😀 wörld\n𝄞x";
        List<byte[]> updates = new ArrayList<>();
        long clock = 0;
        for (int i = 0; i < text.length(); i = text.offsetByCodePoints(i, 1)) {
            String ch = text.substring(i, text.offsetByCodePoints(i, 1));
            updates.add(update(NO_DELETES, section(C, clock, clock == 0 ? rootString(ch) : after(C, clock - 1, ch))));
            clock += ch.length();
        }
        byte[] merged = YUpdates.merge(updates);
        byte[] coalesced = YUpdates.merge(updates, true);
        assertArrayEquals(update(NO_DELETES, section(C, 0, rootString(text))), coalesced);
        assertArrayEquals(YUpdates.stateVector(merged), YUpdates.stateVector(coalesced));
        assertArrayEquals(coalesced, YUpdates.compact(merged));
        assertSame(coalesced, YUpdates.compact(coalesced), "nothing left to join: the same array");
    }

    @Test
    void joinsRunsWithTheSameRightOriginAndKeepsTheDeleteSet() {
        // "ab" typed before D's "z" (both right origins (D,0)), then "c" at the end (no right origin)
        byte[] ds = {1, (byte) C, 1, 1, 1}; // client 7 deletes clock 1
        byte[] u = update(ds,
                section(D, 0, rootString("z")),
                section(C, 0,
                        w -> w.writeByte(0x44).writeVarUint(D).writeVarUint(0).writeVarString("a"),
                        string(C, 0, D, 0, "b"),
                        after(D, 0, "c")));
        byte[] expected = update(ds,
                section(D, 0, rootString("z")),
                section(C, 0,
                        w -> w.writeByte(0x44).writeVarUint(D).writeVarUint(0).writeVarString("ab"),
                        after(D, 0, "c")));
        assertArrayEquals(expected, YUpdates.compact(u));
    }

    @Test
    void anItemWhoseOriginIsTheSeamKeepsTheItemsApart() {
        // D typed "x" between C's "a" and "b" (origin a, right origin b): the document reads "axb"
        byte[] between = update(NO_DELETES,
                section(D, 0, string(C, 0, C, 1, "x")),
                section(C, 0, rootString("a"), after(C, 0, "b")));
        assertUnchanged(between, "x sits between a and b");
        // D typed "y" after "a" concurrently with "b" (same origin as b): which comes first depends on the ids
        byte[] sibling = update(NO_DELETES,
                section(D, 0, after(C, 0, "y")),
                section(C, 0, rootString("a"), after(C, 0, "b")));
        assertUnchanged(sibling, "y is b's sibling");
        // D typed "w" right before "b", its origin elsewhere (conservative rule: no right origin at the seam)
        byte[] before = update(NO_DELETES,
                section(D, 0, w -> w.writeByte(0x44).writeVarUint(C).writeVarUint(1).writeVarString("w")),
                section(C, 0, rootString("a"), after(C, 0, "b")));
        assertUnchanged(before, "w's right origin is b");
        // an origin inside a run (not at a seam) does not matter: the run is split there in both cases
        byte[] inside = update(NO_DELETES,
                section(D, 0, after(C, 0, "v")),
                section(C, 0, rootString("ab"), after(C, 1, "c")));
        byte[] joined = update(NO_DELETES,
                section(D, 0, after(C, 0, "v")),
                section(C, 0, rootString("abc")));
        assertArrayEquals(joined, YUpdates.compact(inside));
        // ... but the seams on both sides of "x" are still refused in a longer run
        byte[] run = update(NO_DELETES,
                section(D, 0, string(C, 1, C, 2, "x")),
                section(C, 0, rootString("a"), after(C, 0, "b"), after(C, 1, "c"), after(C, 2, "d")));
        byte[] runJoined = update(NO_DELETES,
                section(D, 0, string(C, 1, C, 2, "x")),
                section(C, 0, rootString("ab"), after(C, 1, "cd")));
        assertArrayEquals(runJoined, YUpdates.compact(run));
    }

    @Test
    void differentRightOriginsStayApart() {
        byte[] u = update(NO_DELETES,
                section(D, 0, rootString("zq")),
                section(C, 0, string(D, 0, D, 1, "a"), after(C, 0, "b")));
        assertUnchanged(u, "a was typed before q, b at the end");
    }

    @Test
    void mapEntriesAreNeverJoined() {
        // m.k = 1, then m.k = 2: the second value's origin is the first's last id, no right origin
        Struct first = w -> w.writeByte(0x28).writeVarUint(1).writeVarString("m").writeVarString("k").writeVarUint(1).writeAny(1L);
        Struct second = w -> w.writeByte(0x88).writeVarUint(C).writeVarUint(0).writeVarUint(1).writeAny(2L);
        Struct third = w -> w.writeByte(0x88).writeVarUint(C).writeVarUint(1).writeVarUint(1).writeAny(3L);
        assertUnchanged(update(new byte[] {1, (byte) C, 1, 0, 2}, section(C, 0, first, second, third)), "map entries");
        // the same shape in an array joins
        Struct arrayFirst = w -> w.writeByte(0x08).writeVarUint(1).writeVarString("a").writeVarUint(1).writeAny(1L);
        byte[] joined = update(NO_DELETES, section(C, 0,
                w -> w.writeByte(0x08).writeVarUint(1).writeVarString("a").writeVarUint(3).writeAny(1L).writeAny(2L).writeAny(3L)));
        assertArrayEquals(joined, YUpdates.compact(update(NO_DELETES, section(C, 0, arrayFirst, second, third))));
    }

    @Test
    void itemsWhoseListCannotBeTracedStayApart() {
        // the run's origin (D, 5) is not in the update (a diff): it might be a map entry
        assertUnchanged(update(NO_DELETES, section(C, 0, after(D, 5, "a"), after(C, 0, "b"))), "origin outside the update");
        // origin in a GC: yjs turns such items into GC structs; left alone
        byte[] gc = update(NO_DELETES, section(D, 0, w -> w.writeByte(0).writeVarUint(2)), section(C, 0, after(D, 1, "a"), after(C, 0, "b")));
        assertUnchanged(gc, "origin in a GC");
        // a GC or a Skip between two items of one client: not adjacent items
        assertUnchanged(update(NO_DELETES, section(C, 0, rootString("a"), w -> w.writeByte(0).writeVarUint(1), after(C, 1, "b"))), "GC between");
        assertUnchanged(update(NO_DELETES, section(C, 0, rootString("a"), w -> w.writeByte(10).writeVarUint(1), after(C, 1, "b"))), "Skip between");
    }

    @Test
    void onlyContentYjsMergesIsJoined() {
        Struct embed1 = w -> w.writeByte(0x05).writeVarUint(1).writeVarString("t").writeVarString("{\"i\":1}");
        Struct embed2 = w -> w.writeByte(0x85).writeVarUint(C).writeVarUint(0).writeVarString("{\"i\":2}");
        assertUnchanged(update(NO_DELETES, section(C, 0, embed1, embed2)), "embeds");
        Struct format = w -> w.writeByte(0x86).writeVarUint(C).writeVarUint(0).writeVarString("bold").writeVarString("true");
        assertUnchanged(update(NO_DELETES, section(C, 0, rootString("a"), format, after(C, 1, "b"))), "format between");
        Struct binary1 = w -> w.writeByte(0x03).writeVarUint(1).writeVarString("a").writeVarUint8Array(new byte[] {1});
        Struct binary2 = w -> w.writeByte(0x83).writeVarUint(C).writeVarUint(0).writeVarUint8Array(new byte[] {2});
        assertUnchanged(update(NO_DELETES, section(C, 0, binary1, binary2)), "binary");
        assertUnchanged(update(NO_DELETES, section(C, 0, rootString("a"), w -> w.writeByte(0x81).writeVarUint(C).writeVarUint(0).writeVarUint(2))),
                "string next to deleted");

        // Deleted: lengths add up
        Struct del1 = w -> w.writeByte(0x01).writeVarUint(1).writeVarString("t").writeVarUint(2);
        Struct del2 = w -> w.writeByte(0x81).writeVarUint(C).writeVarUint(1).writeVarUint(300);
        assertArrayEquals(update(NO_DELETES, section(C, 0, w -> w.writeByte(0x01).writeVarUint(1).writeVarString("t").writeVarUint(302))),
                YUpdates.compact(update(NO_DELETES, section(C, 0, del1, del2))));
        // JSON (legacy): arrays concatenate, texts kept as they are
        Struct json1 = w -> w.writeByte(0x02).writeVarUint(1).writeVarString("l").writeVarUint(2).writeVarString("{\"a\": 1}").writeVarString("undefined");
        Struct json2 = w -> w.writeByte(0x82).writeVarUint(C).writeVarUint(1).writeVarUint(1).writeVarString("[1]");
        Struct json = w -> w.writeByte(0x02).writeVarUint(1).writeVarString("l").writeVarUint(3)
                .writeVarString("{\"a\": 1}").writeVarString("undefined").writeVarString("[1]");
        assertArrayEquals(update(NO_DELETES, section(C, 0, json)), YUpdates.compact(update(NO_DELETES, section(C, 0, json1, json2))));
    }

    @Test
    void diffsOfACoalescedUpdateSliceTheJoinedItem() {
        byte[] u = YUpdates.merge(List.of(
                update(NO_DELETES, section(C, 0, rootString("a"))),
                update(NO_DELETES, section(C, 1, after(C, 0, "😀"))),
                update(NO_DELETES, section(C, 3, after(C, 2, "b")))), true);
        assertEquals(1, structCount(u));
        // a client holding "a😀" gets "b" with origin (C, 2), exactly the struct that was typed
        assertArrayEquals(update(NO_DELETES, section(C, 3, after(C, 2, "b"))), YUpdates.diff(u, YUpdates.encodeStateVector(Map.of(C, 3L))));
        assertArrayEquals(update(NO_DELETES, section(C, 1, after(C, 0, "😀b"))), YUpdates.diff(u, YUpdates.encodeStateVector(Map.of(C, 1L))));
    }

    @Test
    void clientsListedTwiceAreLeftAlone() {
        byte[] u = update(NO_DELETES, section(C, 0, rootString("a")), section(C, 1, after(C, 0, "b")));
        assertUnchanged(u, "yjs reads only a client's last section: joining across sections would change that");
        byte[] empty = update(NO_DELETES, section(C, 0, rootString("a"), after(C, 0, "b")), section(C, 2));
        assertUnchanged(empty, "an empty section of the same client");
    }

    @Test
    void fuzzedUpdatesCoalesceIntoValidUpdatesWithTheSameStateVector() {
        byte[] runs = update(new byte[] {1, (byte) C, 1, 2, 1},
                section(D, 0, string(C, 1, C, 2, "x"), after(D, 0, "yz")),
                section(C, 0, rootString("a"), after(C, 0, "b"), after(C, 1, "😀"), after(C, 3, "d"),
                        w -> w.writeByte(0x88).writeVarUint(C).writeVarUint(4).writeVarUint(1).writeAny(1L),
                        w -> w.writeByte(0x88).writeVarUint(C).writeVarUint(5).writeVarUint(2).writeAny("x").writeAny(2L)));
        List<byte[]> seeds = List.of(runs, YUpdatesTest.allKinds(), YUpdates.merge(List.of(runs, YUpdatesTest.allKinds())));
        int joined = 0;
        int valid = 0;
        for (int seed = 0; seed < 20_000; seed++) {
            java.util.Random rnd = new java.util.Random(seed);
            byte[] in = seeds.get(rnd.nextInt(seeds.size())).clone();
            for (int e = 1 + rnd.nextInt(3); e > 0; e--) {
                int at = rnd.nextInt(in.length);
                switch (rnd.nextInt(3)) {
                    case 0 -> in[at] = (byte) rnd.nextInt(256);
                    case 1 -> in[at] ^= (byte) (1 << rnd.nextInt(8));
                    default -> in[at] = (byte) (rnd.nextBoolean() ? 0x00 : 0x01);
                }
            }
            byte[] out;
            try {
                YUpdates.validate(in);
                valid++;
            } catch (Lib0Reader.MalformedException e) {
                continue;
            }
            try {
                out = YUpdates.compact(in);
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + " input " + HEX.formatHex(in), t);
            }
            String label = "seed " + seed + " input " + HEX.formatHex(in);
            YUpdates.validate(out);
            assertArrayEquals(YUpdates.stateVector(in), YUpdates.stateVector(out), label);
            assertArrayEquals(out, YUpdates.compact(out), label);
            if (out != in) {
                joined++;
                assertTrue(structCount(out) < structCount(in), label);
            }
        }
        assertTrue(valid > 1000 && joined > 100, valid + " valid inputs, " + joined + " coalesced");
    }
}
