package dev.collab.protocol.ywebsocket;

import static dev.collab.protocol.WireFuzz.bytes;
import static dev.collab.protocol.WireFuzz.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.protocol.WireFuzz;
import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.List;
import org.junit.jupiter.api.Test;

class YWebsocketCodecTest {
    /** State vector {client 7: clock 21}. */
    static final byte[] SV = bytes(1, 7, 21);
    /** Yjs update: client 7 inserts "hi" into root text "body". */
    static final byte[] UPDATE = concat(1, 1, 7, 0, 4, 1, 4, "body", 2, "hi", 0);
    static final byte[] AWARENESS = AwarenessCodec.encode(new AwarenessEntry(424242, 1, "{\"user\":{\"name\":\"Bob\"}}"));

    static List<byte[]> validFrames() {
        return List.of(
                YWebsocketCodec.syncStep1(SV),
                YWebsocketCodec.syncStep1(bytes(0)),
                YWebsocketCodec.syncStep2(UPDATE),
                YWebsocketCodec.syncStep2(bytes(0, 0)),
                YWebsocketCodec.update(UPDATE),
                YWebsocketCodec.awareness(AWARENESS),
                YWebsocketCodec.queryAwareness(),
                YWebsocketCodec.keepAlive(),
                YWebsocketCodec.permissionDenied("no access ✗"));
    }

    @Test
    void encodersWriteTheDocumentedBytes() {
        assertArrayEquals(bytes(0, 0, 3, 1, 7, 21), YWebsocketCodec.syncStep1(SV));
        assertArrayEquals(concat(0, 1, UPDATE.length, UPDATE), YWebsocketCodec.syncStep2(UPDATE));
        assertArrayEquals(concat(0, 2, UPDATE.length, UPDATE), YWebsocketCodec.update(UPDATE));
        assertArrayEquals(concat(1, AWARENESS.length, AWARENESS), YWebsocketCodec.awareness(AWARENESS));
        assertArrayEquals(concat(1, AWARENESS.length, AWARENESS),
                YWebsocketCodec.awareness(AwarenessCodec.decode(AWARENESS)));
        assertArrayEquals(bytes(3), YWebsocketCodec.queryAwareness());
        assertArrayEquals(bytes(1, 1, 0), YWebsocketCodec.keepAlive());
        assertEquals(List.of(), ((YWebsocketCodec.Awareness) YWebsocketCodec.decode(YWebsocketCodec.keepAlive())).entries());
        assertArrayEquals(concat(2, 0, 9, "no access"), YWebsocketCodec.permissionDenied("no access"));
    }

    @Test
    void decodesEachMessageType() {
        var s1 = assertInstanceOf(YWebsocketCodec.SyncStep1.class, YWebsocketCodec.decode(YWebsocketCodec.syncStep1(SV)));
        assertArrayEquals(SV, s1.stateVector());
        var s2 = assertInstanceOf(YWebsocketCodec.SyncStep2.class, YWebsocketCodec.decode(YWebsocketCodec.syncStep2(UPDATE)));
        assertArrayEquals(UPDATE, s2.update());
        var u = assertInstanceOf(YWebsocketCodec.SyncUpdate.class, YWebsocketCodec.decode(YWebsocketCodec.update(UPDATE)));
        assertArrayEquals(UPDATE, u.update());
        var a = assertInstanceOf(YWebsocketCodec.Awareness.class, YWebsocketCodec.decode(YWebsocketCodec.awareness(AWARENESS)));
        assertArrayEquals(AWARENESS, a.awarenessUpdate());
        assertEquals(List.of(new AwarenessEntry(424242, 1, "{\"user\":{\"name\":\"Bob\"}}")), a.entries());
        assertInstanceOf(YWebsocketCodec.QueryAwareness.class, YWebsocketCodec.decode(bytes(3)));
        var auth = assertInstanceOf(YWebsocketCodec.Auth.class, YWebsocketCodec.decode(YWebsocketCodec.permissionDenied("nope")));
        assertEquals("nope", auth.reason());
    }

    @Test
    void roundTripsEveryValidFrame() {
        for (byte[] frame : validFrames()) {
            assertArrayEquals(frame, YWebsocketCodec.encode(YWebsocketCodec.decode(frame)), WireFuzz.hex(frame));
        }
    }

    @Test
    void rejectsUnknownTypes() {
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(4)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(9)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(0x80, 0x01)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(0, 3, 0)));          // sync type 3
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(concat(2, 1, 1, "x")));     // auth type 1
        assertThrows(MalformedException.class,
                () -> YWebsocketCodec.decode(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F)));  // huge type
    }

    @Test
    void rejectsEmptyTruncatedAndTrailing() {
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(new byte[0]));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(null));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(0)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(0, 0)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(0, 2, 5, 0, 0)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(1)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(2)));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(2, 0)));
        for (byte[] frame : validFrames()) {
            assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(concat(frame, 0)), WireFuzz.hex(frame));
            for (int len = 0; len < frame.length; len++) {
                byte[] prefix = java.util.Arrays.copyOf(frame, len);
                if (len == 1 && frame[0] == YWebsocketCodec.MESSAGE_QUERY_AWARENESS) {
                    continue;
                }
                assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(prefix), WireFuzz.hex(prefix));
            }
        }
    }

    @Test
    void rejectsMalformedStateVectorAndAwareness() {
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(0, 0, 2, 1, 7)));     // sv pair cut
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(bytes(0, 0, 2, 0, 0)));     // sv trailing
        byte[] badJson = concat(1, 1, 1, 2, "{]");
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(concat(1, badJson.length, badJson)));
        byte[] badUtf8 = concat(2, 0, 2, bytes(0xC3, 0x28));
        assertThrows(MalformedException.class, () -> YWebsocketCodec.decode(badUtf8));
    }

    @Test
    void randomInputOnlyEverThrowsMalformed() {
        int ok = WireFuzz.fuzz(YWebsocketCodec::decode, YWebsocketCodec::encode, validFrames(), 30_000);
        assertTrue(ok > 0, "some mutations should still decode");
        for (byte[] frame : validFrames()) {
            WireFuzz.truncations(YWebsocketCodec::decode, YWebsocketCodec::encode, frame);
        }
    }
}
