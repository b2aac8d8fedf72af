package dev.collab.protocol.stockclients;

import static dev.collab.protocol.stockclients.StockClients.b64;
import static dev.collab.protocol.stockclients.StockClients.frames;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.hocuspocus.HocuspocusClientCodec;
import dev.collab.protocol.hocuspocus.HocuspocusCodec;
import dev.collab.protocol.hocuspocus.HocuspocusCodec.Scope;
import dev.collab.protocol.ywebsocket.YWebsocketCodec;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the codecs against the stock clients: frames the clients produce (captured by driving the real
 * {@code @hocuspocus/provider} 4.8.0 and {@code y-websocket} 3.1.0 in Node, committed as
 * {@code e2e/wire-fixtures/captured.json}) and reference server frames built with the library encoders the clients
 * decode with. The clients' reactions to frames produced by the Java encoders need Node: {@link StockClientDriveIT}.
 */
class StockClientWireTest {
    static final String DOC = "notes/doc-1";
    static final long CLIENT_ID = 3141592653L;
    static final String CLIENT_STATE = "{\"user\":{\"name\":\"Zoë 👩‍💻\",\"color\":\"#30bced\"},\"cursor\":null}";
    static final AwarenessEntry PEER = new AwarenessEntry(424242, 1, "{\"user\":{\"name\":\"Bob\"}}");

    static JsonObject fixtures;
    static byte[] serverStateVector;
    static byte[] serverUpdate;
    static byte[] serverAwareness;

    @BeforeAll
    static void capture() throws Exception {
        fixtures = StockClients.captured();
        JsonObject inputs = fixtures.getJsonObject("server").getJsonObject("inputs");
        serverStateVector = b64(inputs, "stateVector");
        serverUpdate = b64(inputs, "update");
        serverAwareness = b64(inputs, "awarenessUpdate");
    }

    @Test
    void capturedTheExpectedClientVersions() {
        JsonObject v = fixtures.getJsonObject("versions");
        assertEquals("4.8.0", v.getString("hocuspocusProvider"));
        assertEquals("3.1.0", v.getString("yWebsocket"));
    }

    // ------------------------------------------------------------------------------------ reference server frames

    @Test
    void javaHocuspocusEncodersMatchTheReferenceFrames() {
        JsonObject ref = fixtures.getJsonObject("server").getJsonObject("hocuspocus");
        JsonObject inputs = fixtures.getJsonObject("server").getJsonObject("inputs");
        Map<String, byte[]> java = Map.ofEntries(
                Map.entry("syncStep1", HocuspocusCodec.syncStep1(DOC, serverStateVector)),
                Map.entry("syncStep2", HocuspocusCodec.syncStep2(DOC, serverUpdate)),
                Map.entry("update", HocuspocusCodec.update(DOC, serverUpdate)),
                Map.entry("awareness", HocuspocusCodec.awareness(DOC, serverAwareness)),
                Map.entry("queryAwareness", HocuspocusCodec.queryAwareness(DOC)),
                Map.entry("authenticatedReadWrite", HocuspocusCodec.authenticated(DOC, Scope.READ_WRITE)),
                Map.entry("authenticatedReadonly", HocuspocusCodec.authenticated(DOC, Scope.READONLY)),
                Map.entry("permissionDenied", HocuspocusCodec.permissionDenied(DOC,
                        inputs.getJsonObject("permissionDenied").getString("hocuspocus"))),
                Map.entry("tokenRequest", HocuspocusCodec.tokenRequest(DOC)),
                Map.entry("syncStatusApplied", HocuspocusCodec.syncStatus(DOC, true)),
                Map.entry("syncStatusRefused", HocuspocusCodec.syncStatus(DOC, false)),
                Map.entry("stateless", HocuspocusCodec.stateless(DOC, inputs.getString("stateless"))),
                Map.entry("close", HocuspocusCodec.close(DOC, inputs.getString("close"))),
                Map.entry("ping", HocuspocusCodec.ping()));
        assertEquals(ref.keySet(), java.keySet());
        for (var e : java.entrySet()) {
            byte[] expected = b64(ref, e.getKey());
            assertArrayEquals(expected, e.getValue(), e.getKey());
            // and the server-frame decoder reads the reference frame back to the same bytes
            assertArrayEquals(expected, HocuspocusClientCodec.encode(HocuspocusClientCodec.decodeServerFrame(expected)), e.getKey());
        }
        // the awareness payload survives decode + encode byte for byte (the JSON text is kept raw)
        assertEquals(List.of(new AwarenessEntry(424242, 1,
                "{\"user\":{\"name\":\"Bob\",\"color\":\"#ee6352\"},\"cursor\":{\"anchor\":3,\"head\":5}}")),
                AwarenessCodec.decode(serverAwareness));
        assertArrayEquals(serverAwareness, AwarenessCodec.encode(AwarenessCodec.decode(serverAwareness)));
    }

    @Test
    void javaYWebsocketEncodersMatchTheReferenceFrames() {
        JsonObject ref = fixtures.getJsonObject("server").getJsonObject("ywebsocket");
        JsonObject inputs = fixtures.getJsonObject("server").getJsonObject("inputs");
        Map<String, byte[]> java = Map.of(
                "syncStep1", YWebsocketCodec.syncStep1(serverStateVector),
                "syncStep2", YWebsocketCodec.syncStep2(serverUpdate),
                "update", YWebsocketCodec.update(serverUpdate),
                "awareness", YWebsocketCodec.awareness(serverAwareness),
                "queryAwareness", YWebsocketCodec.queryAwareness(),
                "permissionDenied", YWebsocketCodec.permissionDenied(
                        inputs.getJsonObject("permissionDenied").getString("ywebsocket")));
        assertEquals(ref.keySet(), java.keySet());
        for (var e : java.entrySet()) {
            byte[] expected = b64(ref, e.getKey());
            assertArrayEquals(expected, e.getValue(), e.getKey());
            assertArrayEquals(expected, YWebsocketCodec.encode(YWebsocketCodec.decode(expected)), e.getKey());
        }
    }

    // ------------------------------------------------------------------------------------ frames the clients send

    @Test
    void decodesEverythingTheHocuspocusProviderSends() {
        JsonObject hp = fixtures.getJsonObject("hocuspocus");
        assertEquals("ws://127.0.0.1:1", hp.getString("url"));

        List<byte[]> opening = frames(hp.getJsonArray("opening"));
        assertEquals(3, opening.size());
        assertEquals(new HocuspocusCodec.Auth(DOC, "secret-token", "4.8.0"), decodeExact(opening.get(0)));
        var step1 = assertInstanceOf(HocuspocusCodec.SyncStep1.class, decodeExact(opening.get(1)));
        assertEquals(DOC, step1.documentName());
        assertArrayEquals(new byte[] {0}, step1.stateVector());
        var awareness = assertInstanceOf(HocuspocusCodec.Awareness.class, decodeExact(opening.get(2)));
        assertEquals(List.of(new AwarenessEntry(CLIENT_ID, 1, CLIENT_STATE)), awareness.entries());
        // the Java client-side encoder produces the provider's auth frame byte for byte
        assertArrayEquals(opening.get(0), HocuspocusClientCodec.clientAuth(DOC, "secret-token", "4.8.0"));

        var reply = assertInstanceOf(HocuspocusCodec.SyncStep2.class, decodeExact(only(hp, "step2Reply")));
        assertArrayEquals(new byte[] {0, 0}, reply.update());
        var queryReply = assertInstanceOf(HocuspocusCodec.Awareness.class, decodeExact(only(hp, "queryAwarenessReply")));
        assertEquals(CLIENT_ID, queryReply.entries().get(0).clientId());
        assertArrayEquals(new byte[] {10}, only(hp, "pingReply"));
        assertEquals(new HocuspocusCodec.Pong(), decodeExact(only(hp, "pingReply")));
        assertInstanceOf(HocuspocusCodec.SyncUpdate.class, decodeExact(only(hp, "update")));
        assertEquals(new HocuspocusCodec.Stateless(DOC, "{\"action\":\"hello\",\"value\":\"wörld\"}"),
                decodeExact(only(hp, "stateless")));

        List<byte[]> destroy = frames(hp.getJsonArray("destroy"));
        assertEquals(2, destroy.size());
        var gone = assertInstanceOf(HocuspocusCodec.Awareness.class, decodeExact(destroy.get(0)));
        assertEquals(List.of(AwarenessEntry.removed(CLIENT_ID, 2)), gone.entries());
        assertTrue(gone.entries().get(0).isRemoved());
        assertEquals(new HocuspocusCodec.Close(DOC, null), decodeExact(destroy.get(1)));
        assertArrayEquals(destroy.get(1), HocuspocusClientCodec.clientClose(DOC));
    }

    @Test
    void decodesEverythingTheYWebsocketClientSends() {
        JsonObject yws = fixtures.getJsonObject("ywebsocket");
        assertEquals("ws://127.0.0.1:1/room-1?token=abc", yws.getString("url"));

        List<byte[]> opening = frames(yws.getJsonArray("opening"));
        assertEquals(2, opening.size());
        var step1 = assertInstanceOf(YWebsocketCodec.SyncStep1.class, decodeExactYws(opening.get(0)));
        assertArrayEquals(new byte[] {0}, step1.stateVector());
        var awareness = assertInstanceOf(YWebsocketCodec.Awareness.class, decodeExactYws(opening.get(1)));
        assertEquals(List.of(new AwarenessEntry(CLIENT_ID, 1, CLIENT_STATE)), awareness.entries());

        var reply = assertInstanceOf(YWebsocketCodec.SyncStep2.class, decodeExactYws(only(yws, "step2Reply")));
        assertArrayEquals(new byte[] {0, 0}, reply.update());
        assertInstanceOf(YWebsocketCodec.Awareness.class, decodeExactYws(only(yws, "queryAwarenessReply")));
        assertInstanceOf(YWebsocketCodec.SyncUpdate.class, decodeExactYws(only(yws, "update")));
        var change = assertInstanceOf(YWebsocketCodec.Awareness.class, decodeExactYws(only(yws, "awarenessChange")));
        assertEquals(2, change.entries().get(0).clock());
        assertTrue(change.entries().get(0).state().contains("\"cursor\":{\"anchor\":1,\"head\":2}"));
        var gone = assertInstanceOf(YWebsocketCodec.Awareness.class, decodeExactYws(only(yws, "disconnect")));
        // disconnect() encodes a null state with the current clock (not incremented)
        assertEquals(List.of(AwarenessEntry.removed(CLIENT_ID, 2)), gone.entries());
    }

    // ------------------------------------------------------------------------------------ helpers

    private static HocuspocusCodec.Inbound decodeExact(byte[] frame) {
        HocuspocusCodec.Inbound m = HocuspocusCodec.decode(frame);
        assertArrayEquals(frame, HocuspocusClientCodec.encode(m), "re-encoding " + m);
        return m;
    }

    private static YWebsocketCodec.Message decodeExactYws(byte[] frame) {
        YWebsocketCodec.Message m = YWebsocketCodec.decode(frame);
        assertArrayEquals(frame, YWebsocketCodec.encode(m), "re-encoding " + m);
        return m;
    }

    private static byte[] only(JsonObject o, String key) {
        return StockClients.only(frames(o.getJsonArray(key)));
    }
}
