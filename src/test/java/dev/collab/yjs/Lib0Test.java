package dev.collab.yjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Lib0Test {
    private static final HexFormat HEX = HexFormat.of();

    private static byte[] hex(String s) {
        return HEX.parseHex(s);
    }

    @Test
    void varUintUpToMaxSafeInteger() {
        long[] values = {0, 1, 127, 128, 300, (1L << 31) - 1, 1L << 32, (1L << 53) - 2, Lib0Reader.MAX_SAFE_INTEGER};
        for (long v : values) {
            byte[] bytes = new Lib0Writer().writeVarUint(v).toByteArray();
            Lib0Reader r = new Lib0Reader(bytes);
            assertEquals(v, r.readVarUint());
            assertFalse(r.hasContent());
        }
        assertArrayEquals(hex("ac02"), new Lib0Writer().writeVarUint(300).toByteArray());
        // as lib0 writes the largest client id a Y.Doc can have
        assertArrayEquals(hex("ffffffffffffff0f"), new Lib0Writer().writeVarUint(Lib0Reader.MAX_SAFE_INTEGER).toByteArray());
    }

    @Test
    void varUintBeyondMaxSafeIntegerOrTruncatedIsRejected() {
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("8080808080808010")).readVarUint()); // 2^53
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("ffffffffffffffff7f")).readVarUint());
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("ff")).readVarUint());
        assertThrows(MalformedException.class, () -> new Lib0Reader(new byte[0]).readVarUint());
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("ffffffff7f")).readLength());
    }

    @Test
    void varIntSigns() {
        // lib0: first byte = continuation | sign | 6 bits
        assertArrayEquals(hex("00"), new Lib0Writer().writeVarInt(0).toByteArray());
        assertArrayEquals(hex("41"), new Lib0Writer().writeVarInt(-1).toByteArray());
        assertArrayEquals(hex("3f"), new Lib0Writer().writeVarInt(63).toByteArray());
        assertArrayEquals(hex("8001"), new Lib0Writer().writeVarInt(64).toByteArray());
        assertArrayEquals(hex("c001"), new Lib0Writer().writeVarInt(-64).toByteArray());
        long[] values = {0, 1, -1, 63, -63, 64, -64, 8191, -8192, 1L << 31, -(1L << 31), Lib0Reader.MAX_SAFE_INTEGER, -Lib0Reader.MAX_SAFE_INTEGER};
        for (long v : values) {
            assertEquals(v, new Lib0Reader(new Lib0Writer().writeVarInt(v).toByteArray()).readVarInt(), "value " + v);
        }
        assertEquals(0, new Lib0Reader(hex("40")).readVarInt()); // lib0's -0
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("c0")).readVarInt());
    }

    @Test
    void varStringWritesLoneSurrogatesAsReplacementCharacter() {
        assertArrayEquals(hex("0561efbfbd62"), new Lib0Writer().writeVarString("a\uD800b").toByteArray());
        assertArrayEquals(hex("03efbfbd"), new Lib0Writer().writeVarString("\uDC00").toByteArray());
        assertArrayEquals(hex("06efbfbdefbfbd"), new Lib0Writer().writeVarString("\uDC00\uD800").toByteArray());
        String emoji = "x😀é中";
        byte[] bytes = new Lib0Writer().writeVarString(emoji).toByteArray();
        assertEquals(emoji, new Lib0Reader(bytes).readVarString());
        assertEquals(1 + 1 + 4 + 2 + 3, bytes.length);
    }

    @Test
    void varStringIsReadStrictlyAsLib0sFatalTextDecoder() {
        // invalid UTF-8, an encoded lone surrogate (U+D800), overlong '/', a truncated sequence: refused, not U+FFFD
        for (String h : new String[] {"01ff", "03eda080", "02c0af", "02e282"}) {
            assertThrows(MalformedException.class, () -> new Lib0Reader(hex(h)).readVarString(), h);
        }
        assertEquals("\uFEFFa", new Lib0Reader(hex("04efbbbf61")).readVarString());  // a BOM is kept
        assertEquals("\uFFFD", new Lib0Reader(hex("03efbfbd")).readVarString());    // U+FFFD itself is valid
    }

    @Test
    void anyRoundTrips() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("int", 42L);
        map.put("neg", -7L);
        map.put("big", Lib0Reader.MAX_SAFE_INTEGER);
        map.put("float", 1.5f);
        map.put("double", 0.1);
        map.put("bigint", new Lib0Reader.BigIntValue(Long.MIN_VALUE));
        map.put("str", "ü😀");
        map.put("t", Boolean.TRUE);
        map.put("f", Boolean.FALSE);
        map.put("null", null);
        map.put("undef", Lib0Reader.UNDEFINED);
        map.put("list", List.of(1L, "two", List.of(), Map.of()));
        map.put("ключ", new LinkedHashMap<>(Map.of("nested", 3L)));
        byte[] bytes = new Lib0Writer().writeAny(map).toByteArray();
        Lib0Reader r = new Lib0Reader(bytes);
        @SuppressWarnings("unchecked")
        Map<String, Object> back = (Map<String, Object>) r.readAny();
        assertFalse(r.hasContent());
        assertEquals(new ArrayList<>(map.keySet()), new ArrayList<>(back.keySet()));
        for (String k : map.keySet()) {
            assertEquals(map.get(k), back.get(k), k);
        }
        assertSame(Lib0Reader.UNDEFINED, back.get("undef"));

        byte[] binary = new Lib0Writer().writeAny(new byte[] {1, 2, 3}).toByteArray();
        assertArrayEquals(hex("7403010203"), binary);
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) new Lib0Reader(binary).readAny());
        assertInstanceOf(Long.class, new Lib0Reader(new Lib0Writer().writeAny(5).toByteArray()).readAny());
    }

    @Test
    void anyRejectsUnknownTagsAndTruncation() {
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("73")).readAny());
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("7505")).readAny());
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("7b0000")).readAny());
        assertThrows(MalformedException.class, () -> new Lib0Reader(hex("77ffffffff0f")).readAny());
    }

    @Test
    void strictUtf8AsTheFatalTextDecoder() {
        String[] valid = {"", "abc", "ä", "中", "😀", "\uFEFF", "\uFFFD"};
        for (String s : valid) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            assertEquals(s.length(), Utf8.utf16Length(b, 0, b.length), s);
        }
        String[] invalid = {"c080", "c1bf", "e08080", "eda080", "edbfbf", "f08f8080", "f4908080", "f5808080", "80", "e282", "f09f98", "ff"};
        for (String h : invalid) {
            byte[] b = hex(h);
            assertEquals(-1, Utf8.utf16Length(b, 0, b.length), h);
        }
        byte[] s = "a😀b".getBytes(StandardCharsets.UTF_8);
        assertEquals(0, Utf8.byteOffsetOfUnit(s, 0, s.length, 0));
        assertEquals(1, Utf8.byteOffsetOfUnit(s, 0, s.length, 1));
        assertEquals(-(5) - 1, Utf8.byteOffsetOfUnit(s, 0, s.length, 2)); // between the surrogates: resume at 'b'
        assertEquals(5, Utf8.byteOffsetOfUnit(s, 0, s.length, 3));
    }

    @Test
    void jsonSyntaxAsJsonParse() {
        String[] valid = {"null", "true", " false ", "0", "-0", "1.5e-3", "-12E+2", "\"\"", "\"\\u00e9\\n\\\"\"", "[]", "{}", " [1, {\"a\": [null, {}]}, \"x\"] ",
            "{\"a\":1,\"a\":2}", "\"😀\"", "[[[[[[[[[[]]]]]]]]]]"};
        for (String s : valid) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            assertTrue(JsonSyntax.isValid(b, 0, b.length), s);
        }
        String[] invalid = {"", " ", "undefined", "01", "1.", ".5", "-", "+1", "1e", "[1,]", "{\"a\":1,}", "{a:1}", "[1 2]", "'x'", "\"\t\"", "\"\\x\"",
            "\"\\u12\"", "[", "{\"a\"}", "nul", "truex", "1 2", "\uFEFF1", "NaN", "[]]"};
        for (String s : invalid) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            assertFalse(JsonSyntax.isValid(b, 0, b.length), s);
        }
        byte[] deep = new byte[200_000];
        Arrays.fill(deep, 0, 100_000, (byte) '[');
        Arrays.fill(deep, 100_000, 200_000, (byte) ']');
        assertTrue(JsonSyntax.isValid(deep, 0, deep.length)); // no recursion, no stack overflow
    }
}
