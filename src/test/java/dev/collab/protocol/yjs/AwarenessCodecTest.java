package dev.collab.protocol.yjs;

import static dev.collab.protocol.WireFuzz.bytes;
import static dev.collab.protocol.WireFuzz.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.protocol.WireFuzz;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.Lib0Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AwarenessCodecTest {

    @Test
    void encodesTheDocumentedLayout() {
        byte[] update = AwarenessCodec.encode(
                new AwarenessEntry(3141592653L, 1, "{\"a\":1}"),
                AwarenessEntry.removed(5, 300));
        byte[] expected = concat(2,
                0xCD, 0xCC, 0x83, 0xDA, 0x0B, 1, 7, "{\"a\":1}",
                5, 0xAC, 0x02, 4, "null");
        assertArrayEquals(expected, update);
    }

    @Test
    void roundTripKeepsTheRawJsonText() {
        String spaced = " { \"user\" : { \"name\" : \"Zoë 👩‍💻\" } , \"n\" : 1.50 } ";
        List<AwarenessEntry> entries = List.of(
                new AwarenessEntry(0, 0, "{}"),
                new AwarenessEntry(Lib0Reader.MAX_SAFE_INTEGER, Lib0Reader.MAX_SAFE_INTEGER, spaced),
                new AwarenessEntry(42, 7, "\"just a string\""),
                new AwarenessEntry(43, 8, "[1,2,{\"x\":null}]"),
                AwarenessEntry.removed(44, 9));
        byte[] update = AwarenessCodec.encode(entries);
        List<AwarenessEntry> decoded = AwarenessCodec.decode(update);
        assertEquals(entries, decoded);
        assertEquals(spaced, decoded.get(1).state());
        assertArrayEquals(update, AwarenessCodec.encode(decoded));
    }

    @Test
    void emptyUpdateIsValid() {
        assertEquals(List.of(), AwarenessCodec.decode(bytes(0)));
        assertArrayEquals(bytes(0), AwarenessCodec.encode(List.of()));
    }

    @Test
    void removedMeansJsonNull() {
        assertTrue(AwarenessEntry.removed(1, 2).isRemoved());
        assertTrue(new AwarenessEntry(1, 2, " \n null\t").isRemoved());
        assertFalse(new AwarenessEntry(1, 2, "{}").isRemoved());
        assertFalse(new AwarenessEntry(1, 2, "\"null\"").isRemoved());
        assertFalse(new AwarenessEntry(1, 2, "[null]").isRemoved());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "null", " null ", "1", "-0", "1e400", "\"x\"", "true", "false", "[]",
        "{\"a\":1,\"a\":2}", "{\"a\":\"\\ud800\"}", "\t[ ]\r\n", "{\"cursor\":null,\"user\":{\"name\":\"B\"}}"})
    void acceptsWhatJsonParseAccepts(String json) {
        assertTrue(AwarenessCodec.isJson(json), json);
        byte[] update = concat(1, 1, 1, new Lib0Writer().writeVarString(json).toByteArray());
        assertEquals(json, AwarenessCodec.decode(update).get(0).state());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "{} x", "1 2", "01", "[1,]", "{\"a\":1,}", "{\"a\":1}}", "[]]", "nul", "tru",
        "NaN", "'a'", "+1", ".5", "1.", "1e", "-", "\"\\x\"", "\"\\u12\"", "{\"a\" 1}", "[1 2]", "undefined",
        "\uFEFF{}", "\u00A0{}", "\"\u0001\""})
    void rejectsWhatJsonParseRejects(String json) {
        assertFalse(AwarenessCodec.isJson(json), json);
        byte[] update = concat(1, 1, 1, new Lib0Writer().writeVarString(json).toByteArray());
        assertThrows(MalformedException.class, () -> AwarenessCodec.decode(update));
        assertThrows(IllegalArgumentException.class, () -> new AwarenessEntry(1, 1, json));
    }

    @Test
    void rejectsTooDeepNesting() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        assertThrows(MalformedException.class, () -> AwarenessCodec.requireJson(deep));
    }

    @Test
    void rejectsInvalidUtf8InState() {
        // "{\"a\":\"<bad>\"}" with an overlong, an encoded surrogate, a lone continuation byte, a truncated sequence
        for (byte[] bad : List.of(bytes(0xC0, 0xAF), bytes(0xED, 0xA0, 0x80), bytes(0x80), bytes(0xE2, 0x82),
                bytes(0xF4, 0x90, 0x80, 0x80), bytes(0xFF))) {
            byte[] json = concat("{\"a\":\"", bad, "\"}");
            byte[] update = concat(1, 1, 1, json.length, json);
            assertThrows(MalformedException.class, () -> AwarenessCodec.decode(update), WireFuzz.hex(bad));
        }
        // a valid 4-byte sequence is fine
        byte[] json = "{\"a\":\"😀\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals("{\"a\":\"😀\"}", AwarenessCodec.decode(concat(1, 1, 1, json.length, json)).get(0).state());
    }

    @Test
    void rejectsTrailingBytesAndTruncation() {
        byte[] update = AwarenessCodec.encode(new AwarenessEntry(9, 3, "{\"k\":\"v\"}"));
        assertThrows(MalformedException.class, () -> AwarenessCodec.decode(concat(update, 0)));
        for (int len = 0; len < update.length; len++) {
            byte[] prefix = java.util.Arrays.copyOf(update, len);
            assertThrows(MalformedException.class, () -> AwarenessCodec.decode(prefix), "prefix length " + len);
        }
    }

    @Test
    void hugeEntryCountDoesNotAllocate() {
        byte[] update = new Lib0Writer().writeVarUint(Integer.MAX_VALUE).writeByte(1).toByteArray();
        assertThrows(MalformedException.class, () -> AwarenessCodec.decode(update));
        byte[] tooLong = new Lib0Writer().writeVarUint(Lib0Reader.MAX_SAFE_INTEGER).toByteArray();
        assertThrows(MalformedException.class, () -> AwarenessCodec.decode(tooLong));
    }

    @Test
    void randomInputOnlyEverThrowsMalformed() {
        List<byte[]> seeds = List.of(
                AwarenessCodec.encode(new AwarenessEntry(3141592653L, 1, "{\"user\":{\"name\":\"Zoë\"},\"c\":[1,2.5]}")),
                AwarenessCodec.encode(AwarenessEntry.removed(1, 2), new AwarenessEntry(2, 0, "{}")),
                bytes(0));
        int ok = WireFuzz.fuzz(AwarenessCodec::decode, AwarenessCodec::encode, seeds, 20_000);
        assertTrue(ok > 0, "some mutations should still decode");
    }
}
