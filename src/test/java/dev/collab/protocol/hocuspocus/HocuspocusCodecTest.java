package dev.collab.protocol.hocuspocus;

import static dev.collab.protocol.WireFuzz.bytes;
import static dev.collab.protocol.WireFuzz.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.protocol.WireFuzz;
import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.hocuspocus.HocuspocusCodec.Scope;
import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.List;
import org.junit.jupiter.api.Test;

class HocuspocusCodecTest {
    static final String DOC = "notes/doc-1";
    static final byte[] DOC_PREFIX = concat(11, DOC);
    static final byte[] SV = bytes(1, 7, 21);
    static final byte[] UPDATE = concat(1, 1, 7, 0, 4, 1, 4, "body", 2, "hi", 0);
    static final byte[] AWARENESS = AwarenessCodec.encode(new AwarenessEntry(424242, 1, "{\"user\":{\"name\":\"Bob\"}}"));

    /** Frames a client sends. */
    static List<byte[]> clientFrames() {
        return List.of(
                HocuspocusClientCodec.clientAuth(DOC, "secret-token", "4.8.0"),
                HocuspocusClientCodec.clientAuth(DOC, "", "4.8.0"),
                HocuspocusClientCodec.clientAuth(DOC, "t", null),
                HocuspocusCodec.syncStep1(DOC, bytes(0)),
                HocuspocusCodec.syncStep2(DOC, bytes(0, 0)),
                HocuspocusCodec.update(DOC, UPDATE),
                HocuspocusCodec.awareness(DOC, AWARENESS),
                HocuspocusCodec.queryAwareness(DOC),
                HocuspocusCodec.stateless(DOC, "{\"op\":\"ping\"}"),
                HocuspocusClientCodec.clientClose(DOC),
                HocuspocusClientCodec.clientPong(),
                HocuspocusCodec.syncStep1("", SV),
                HocuspocusCodec.syncStep1("doc\0session-1", SV));
    }

    /** Frames a server sends. */
    static List<byte[]> serverFrames() {
        return List.of(
                HocuspocusCodec.syncStep1(DOC, SV),
                HocuspocusCodec.syncStep2(DOC, UPDATE),
                HocuspocusCodec.update(DOC, UPDATE),
                HocuspocusCodec.awareness(DOC, AWARENESS),
                HocuspocusCodec.queryAwareness(DOC),
                HocuspocusCodec.authenticated(DOC, Scope.READ_WRITE),
                HocuspocusCodec.authenticated(DOC, Scope.READONLY),
                HocuspocusCodec.permissionDenied(DOC, "invalid token"),
                HocuspocusCodec.tokenRequest(DOC),
                HocuspocusCodec.syncStatus(DOC, true),
                HocuspocusCodec.syncStatus(DOC, false),
                HocuspocusCodec.stateless(DOC, "{\"hello\":\"wörld\"}"),
                HocuspocusCodec.close(DOC, "Forbidden"),
                HocuspocusCodec.ping());
    }

    @Test
    void serverEncodersWriteTheDocumentedBytes() {
        assertArrayEquals(concat(DOC_PREFIX, 0, 0, 3, SV), HocuspocusCodec.syncStep1(DOC, SV));
        assertArrayEquals(concat(DOC_PREFIX, 0, 1, UPDATE.length, UPDATE), HocuspocusCodec.syncStep2(DOC, UPDATE));
        assertArrayEquals(concat(DOC_PREFIX, 0, 2, UPDATE.length, UPDATE), HocuspocusCodec.update(DOC, UPDATE));
        assertArrayEquals(concat(DOC_PREFIX, 1, AWARENESS.length, AWARENESS), HocuspocusCodec.awareness(DOC, AWARENESS));
        assertArrayEquals(concat(DOC_PREFIX, 3), HocuspocusCodec.queryAwareness(DOC));
        assertArrayEquals(concat(DOC_PREFIX, 2, 2, 10, "read-write"), HocuspocusCodec.authenticated(DOC, Scope.READ_WRITE));
        assertArrayEquals(concat(DOC_PREFIX, 2, 2, 8, "readonly"), HocuspocusCodec.authenticated(DOC, Scope.READONLY));
        assertArrayEquals(concat(DOC_PREFIX, 2, 1, 4, "nope"), HocuspocusCodec.permissionDenied(DOC, "nope"));
        assertArrayEquals(concat(DOC_PREFIX, 2, 0), HocuspocusCodec.tokenRequest(DOC));
        assertArrayEquals(concat(DOC_PREFIX, 8, 1), HocuspocusCodec.syncStatus(DOC, true));
        assertArrayEquals(concat(DOC_PREFIX, 8, 0), HocuspocusCodec.syncStatus(DOC, false));
        assertArrayEquals(concat(DOC_PREFIX, 5, 3, "abc"), HocuspocusCodec.stateless(DOC, "abc"));
        assertArrayEquals(concat(DOC_PREFIX, 7, 3, "bye"), HocuspocusCodec.close(DOC, "bye"));
        assertArrayEquals(bytes(9), HocuspocusCodec.ping());
    }

    @Test
    void clientEncodersWriteTheDocumentedBytes() {
        assertArrayEquals(concat(DOC_PREFIX, 2, 0, 3, "tok", 5, "4.8.0"), HocuspocusClientCodec.clientAuth(DOC, "tok", "4.8.0"));
        assertArrayEquals(concat(DOC_PREFIX, 7), HocuspocusClientCodec.clientClose(DOC));
        assertArrayEquals(bytes(10), HocuspocusClientCodec.clientPong());
    }

    @Test
    void decodesWhatClientsSend() {
        var auth = assertInstanceOf(HocuspocusCodec.Auth.class,
                HocuspocusCodec.decode(HocuspocusClientCodec.clientAuth(DOC, "secret-token", "4.8.0")));
        assertEquals(new HocuspocusCodec.Auth(DOC, "secret-token", "4.8.0"), auth);
        assertNull(((HocuspocusCodec.Auth) HocuspocusCodec.decode(HocuspocusClientCodec.clientAuth(DOC, "t", null)))
                .providerVersion());
        var s1 = assertInstanceOf(HocuspocusCodec.SyncStep1.class, HocuspocusCodec.decode(HocuspocusCodec.syncStep1(DOC, SV)));
        assertEquals(DOC, s1.documentName());
        assertArrayEquals(SV, s1.stateVector());
        var s2 = assertInstanceOf(HocuspocusCodec.SyncStep2.class, HocuspocusCodec.decode(HocuspocusCodec.syncStep2(DOC, UPDATE)));
        assertArrayEquals(UPDATE, s2.update());
        var u = assertInstanceOf(HocuspocusCodec.SyncUpdate.class, HocuspocusCodec.decode(HocuspocusCodec.update(DOC, UPDATE)));
        assertArrayEquals(UPDATE, u.update());
        var a = assertInstanceOf(HocuspocusCodec.Awareness.class, HocuspocusCodec.decode(HocuspocusCodec.awareness(DOC, AWARENESS)));
        assertArrayEquals(AWARENESS, a.awarenessUpdate());
        assertEquals(424242, a.entries().get(0).clientId());
        assertEquals(new HocuspocusCodec.QueryAwareness(DOC), HocuspocusCodec.decode(HocuspocusCodec.queryAwareness(DOC)));
        assertEquals(new HocuspocusCodec.Stateless(DOC, "x"), HocuspocusCodec.decode(HocuspocusCodec.stateless(DOC, "x")));
        assertEquals(new HocuspocusCodec.Close(DOC, null), HocuspocusCodec.decode(HocuspocusClientCodec.clientClose(DOC)));
        assertEquals(new HocuspocusCodec.Close(DOC, "why"), HocuspocusCodec.decode(HocuspocusCodec.close(DOC, "why")));
        assertEquals(new HocuspocusCodec.Pong(), HocuspocusCodec.decode(bytes(10)));
    }

    @Test
    void decodesWhatServersSend() {
        assertEquals(new HocuspocusCodec.Authenticated(DOC, Scope.READONLY),
                HocuspocusClientCodec.decodeServerFrame(HocuspocusCodec.authenticated(DOC, Scope.READONLY)));
        assertEquals(new HocuspocusCodec.PermissionDenied(DOC, "no"),
                HocuspocusClientCodec.decodeServerFrame(HocuspocusCodec.permissionDenied(DOC, "no")));
        assertEquals(new HocuspocusCodec.TokenRequest(DOC), HocuspocusClientCodec.decodeServerFrame(HocuspocusCodec.tokenRequest(DOC)));
        assertEquals(new HocuspocusCodec.SyncStatus(DOC, true), HocuspocusClientCodec.decodeServerFrame(HocuspocusCodec.syncStatus(DOC, true)));
        assertEquals(new HocuspocusCodec.SyncStatus(DOC, false), HocuspocusClientCodec.decodeServerFrame(HocuspocusCodec.syncStatus(DOC, false)));
        assertEquals(new HocuspocusCodec.Close(DOC, "bye"), HocuspocusClientCodec.decodeServerFrame(HocuspocusCodec.close(DOC, "bye")));
        assertEquals(new HocuspocusCodec.Ping(), HocuspocusClientCodec.decodeServerFrame(bytes(9)));
        assertInstanceOf(HocuspocusCodec.SyncStep2.class, HocuspocusClientCodec.decodeServerFrame(HocuspocusCodec.syncStep2(DOC, UPDATE)));
    }

    @Test
    void roundTripsEveryValidFrame() {
        for (byte[] frame : clientFrames()) {
            assertArrayEquals(frame, HocuspocusClientCodec.encode(HocuspocusCodec.decode(frame)), WireFuzz.hex(frame));
        }
        for (byte[] frame : serverFrames()) {
            assertArrayEquals(frame, HocuspocusClientCodec.encode(HocuspocusClientCodec.decodeServerFrame(frame)), WireFuzz.hex(frame));
        }
    }

    @Test
    void documentNamesAreKeptExactly() {
        String key = "doc 📄\0abc123";
        var m = (HocuspocusCodec.DocumentMessage) HocuspocusCodec.decode(HocuspocusCodec.syncStep1(key, bytes(0)));
        assertEquals(key, m.documentName());
        assertEquals("doc 📄", HocuspocusCodec.documentNameOf(m.documentName()));
        assertEquals("plain", HocuspocusCodec.documentNameOf("plain"));
        assertEquals("", ((HocuspocusCodec.DocumentMessage) HocuspocusCodec.decode(HocuspocusCodec.queryAwareness(""))).documentName());
    }

    @Test
    void rejectsTypesOutOfDirectionOrUnknown() {
        // server-only frames are not accepted from a client
        for (byte[] frame : List.of(HocuspocusCodec.ping(), HocuspocusCodec.authenticated(DOC, Scope.READ_WRITE),
                HocuspocusCodec.permissionDenied(DOC, "x"), HocuspocusCodec.tokenRequest(DOC),
                HocuspocusCodec.syncStatus(DOC, true))) {
            assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(frame), WireFuzz.hex(frame));
        }
        // client-only frames are not what a server may send
        for (byte[] frame : List.of(HocuspocusClientCodec.clientPong(), HocuspocusClientCodec.clientAuth(DOC, "t", "v"),
                HocuspocusClientCodec.clientClose(DOC))) {
            assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(frame), WireFuzz.hex(frame));
        }
        // SyncReply (4), BroadcastStateless (6), document-prefixed ping/pong, unknown types
        for (int type : new int[] {4, 6, 9, 10, 11, 127}) {
            byte[] frame = concat(DOC_PREFIX, type, 0);
            assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(frame), "type " + type);
            assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(frame), "type " + type);
        }
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(concat(DOC_PREFIX, 0, 3, 0)));
        assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(concat(DOC_PREFIX, 2, 3)));
        assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(concat(DOC_PREFIX, 2, 2, 5, "admin")));
        assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(concat(DOC_PREFIX, 8, 2)));
        assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(concat(DOC_PREFIX, 8, 0x41)));
    }

    @Test
    void rejectsEmptyTruncatedAndTrailing() {
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(new byte[0]));
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(null));
        assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(new byte[0]));
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(bytes(0)));            // empty name, no type
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(bytes(9)));            // ping from a client
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(bytes(10, 0)));         // pong + garbage
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(concat(DOC_PREFIX, 2, 0))); // auth without token
        assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(concat(DOC_PREFIX, 7))); // reason missing
        for (byte[] frame : clientFrames()) {
            assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(concat(frame, 0x41, 0x42)), WireFuzz.hex(frame));
            WireFuzz.truncations(HocuspocusCodec::decode, HocuspocusClientCodec::encode, frame);
        }
        for (byte[] frame : serverFrames()) {
            assertThrows(MalformedException.class, () -> HocuspocusClientCodec.decodeServerFrame(concat(frame, 0x41)), WireFuzz.hex(frame));
            WireFuzz.truncations(HocuspocusClientCodec::decodeServerFrame, HocuspocusClientCodec::encode, frame);
        }
    }

    @Test
    void rejectsInvalidUtf8Anywhere() {
        byte[] badName = concat(2, bytes(0xC3, 0x28), 3);
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(badName));
        byte[] badToken = concat(DOC_PREFIX, 2, 0, 2, bytes(0xED, 0xA0), 5, "4.8.0");
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(badToken));
        byte[] badStateless = concat(DOC_PREFIX, 5, 1, bytes(0x80));
        assertThrows(MalformedException.class, () -> HocuspocusCodec.decode(badStateless));
        byte[] json = concat("{\"n\":\"", bytes(0xF8, 0x88, 0x80, 0x80, 0x80), "\"}");
        byte[] awareness = concat(1, 1, 1, json.length, json);
        assertThrows(MalformedException.class,
                () -> HocuspocusCodec.decode(concat(DOC_PREFIX, 1, awareness.length, awareness)));
    }

    @Test
    void randomInputOnlyEverThrowsMalformed() {
        int ok = WireFuzz.fuzz(HocuspocusCodec::decode, HocuspocusClientCodec::encode, clientFrames(), 30_000);
        int okServer = WireFuzz.fuzz(HocuspocusClientCodec::decodeServerFrame, HocuspocusClientCodec::encode, serverFrames(), 30_000);
        assertTrue(ok > 0 && okServer > 0, "some mutations should still decode");
    }
}
