package dev.collab.protocol.stockclients;

import static dev.collab.protocol.stockclients.StockClients.b64;
import static dev.collab.protocol.stockclients.StockClients.frames;
import static dev.collab.protocol.stockclients.StockClients.only;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.hocuspocus.HocuspocusCodec;
import dev.collab.protocol.hocuspocus.HocuspocusCodec.Scope;
import dev.collab.protocol.ywebsocket.YWebsocketCodec;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The stock clients run live in Node ({@code e2e/wire-fixtures/capture.mjs}, which needs {@code npm ci} in e2e/;
 * without it these tests fail, they do not skip): the committed capture the unit tests read is what the clients
 * send today, and the real {@code @hocuspocus/provider} and {@code y-websocket} react as expected to frames
 * produced by the Java encoders.
 */
class StockClientDriveIT {
    static final String DOC = StockClientWireTest.DOC;
    static final long CLIENT_ID = StockClientWireTest.CLIENT_ID;
    static final AwarenessEntry PEER = StockClientWireTest.PEER;

    static byte[] serverStateVector;
    static byte[] serverUpdate;

    @BeforeAll
    static void inputs() throws Exception {
        JsonObject inputs = StockClients.captured().getJsonObject("server").getJsonObject("inputs");
        serverStateVector = b64(inputs, "stateVector");
        serverUpdate = b64(inputs, "update");
    }

    @Test
    void theCommittedCaptureIsWhatTheClientsSendToday() throws Exception {
        assertEquals(StockClients.captured(), StockClients.run(null),
                "e2e/wire-fixtures/captured.json is stale: regenerate it with"
                        + " node e2e/wire-fixtures/capture.mjs > e2e/wire-fixtures/captured.json");
    }

    @Test
    void hocuspocusProviderCompletesTheHandshakeWithJavaFrames() throws Exception {
        byte[] otherDoc = HocuspocusCodec.syncStep2("other-doc", serverUpdate);
        JsonArrayBuilder steps = Json.createArrayBuilder()
                .add(frame(HocuspocusCodec.authenticated(DOC, Scope.READ_WRITE)))   // 0
                .add(frame(HocuspocusCodec.update(DOC, serverUpdate)))              // 1
                .add(frame(HocuspocusCodec.syncStep2(DOC, serverUpdate)))           // 2
                .add(frame(HocuspocusCodec.syncStep1(DOC, serverStateVector)))      // 3
                .add(frame(HocuspocusCodec.syncStatus(DOC, true)))                  // 4
                .add(Json.createObjectBuilder().add("edit", "!"))                    // 5
                .add(frame(HocuspocusCodec.syncStatus(DOC, false)))                 // 6
                .add(frame(HocuspocusCodec.syncStatus(DOC, true)))                  // 7
                .add(frame(HocuspocusCodec.ping()))                                 // 8
                .add(frame(HocuspocusCodec.awareness(DOC, List.of(PEER))))          // 9
                .add(frame(HocuspocusCodec.awareness(DOC, List.of(AwarenessEntry.removed(PEER.clientId(), 1))))) // 10
                .add(frame(HocuspocusCodec.queryAwareness(DOC)))                    // 11
                .add(frame(HocuspocusCodec.stateless(DOC, "{\"x\":1}")))            // 12
                .add(frame(HocuspocusCodec.tokenRequest(DOC)))                      // 13
                .add(frame(HocuspocusCodec.permissionDenied(DOC, "expired")))       // 14
                .add(frame(HocuspocusCodec.authenticated(DOC, Scope.READONLY)))     // 15
                .add(frame(otherDoc))                                               // 16
                .add(frame(HocuspocusCodec.close(DOC, "Forbidden")));               // 17
        JsonObject input = Json.createObjectBuilder()
                .add("hocuspocus", Json.createObjectBuilder().add("name", DOC).add("token", "secret-token")
                        .add("steps", steps))
                .build();
        JsonObject out = StockClients.run(input.toString(), "--drive");
        JsonObject run = out.getJsonObject("hocuspocus");
        // no frame made the provider log an error (unknown type, decoding failure)
        assertEquals(0, out.getJsonArray("logged").size(), out.getJsonArray("logged").toString());

        // on open: token, step 1, awareness; unsyncedChanges starts at 1
        List<byte[]> opening = frames(run.getJsonArray("opening"));
        assertInstanceOf(HocuspocusCodec.Auth.class, HocuspocusCodec.decode(opening.get(0)));
        assertInstanceOf(HocuspocusCodec.SyncStep1.class, HocuspocusCodec.decode(opening.get(1)));
        assertInstanceOf(HocuspocusCodec.Awareness.class, HocuspocusCodec.decode(opening.get(2)));
        assertEquals(1, run.getJsonObject("initialState").getInt("unsyncedChanges"));
        assertFalse(run.getJsonObject("initialState").getBoolean("synced"));

        JsonArray s = run.getJsonArray("steps");
        // 0: authenticated — the first server frame also completes the connection
        assertTrue(hasEvent(s, 0, "authenticated", "scope", "read-write"));
        assertTrue(hasEvent(s, 0, "connect", null, null));
        assertTrue(state(s, 0).getBoolean("isAuthenticated"));
        assertEquals("read-write", state(s, 0).getString("authorizedScope"));
        // 1: a plain update is applied but does not make the provider synced
        assertEquals("hello from the server", state(s, 1).getString("text"));
        assertFalse(state(s, 1).getBoolean("synced"));
        // 2: step 2 makes it synced (the 'synced' event), unsyncedChanges still 1
        assertTrue(hasEvent(s, 2, "synced", "state", "true"));
        assertTrue(state(s, 2).getBoolean("synced"));
        assertEquals(1, state(s, 2).getInt("unsyncedChanges"));
        // 3: the server's step 1 is answered with a step 2 at once
        var reply = assertInstanceOf(HocuspocusCodec.SyncStep2.class, HocuspocusCodec.decode(only(sent(s, 3))));
        assertEquals(DOC, reply.documentName());
        assertEquals(1, state(s, 3).getInt("unsyncedChanges"));
        // 4: acknowledging that step 2 brings unsyncedChanges to 0
        assertEquals(0, state(s, 4).getInt("unsyncedChanges"));
        assertFalse(state(s, 4).getBoolean("hasUnsyncedChanges"));
        assertTrue(hasEvent(s, 4, "unsyncedChanges", "number", "0"));
        // 5: a local edit is sent as an update and counted
        assertInstanceOf(HocuspocusCodec.SyncUpdate.class, HocuspocusCodec.decode(only(sent(s, 5))));
        assertEquals(1, state(s, 5).getInt("unsyncedChanges"));
        // 6: SyncStatus(false) does not count; 7: SyncStatus(true) does
        assertEquals(1, state(s, 6).getInt("unsyncedChanges"));
        assertEquals(0, state(s, 7).getInt("unsyncedChanges"));
        // 8: ping [9] is answered with pong [10]
        assertArrayEquals(new byte[] {10}, only(sent(s, 8)));
        // 9/10: awareness from the server is applied, and the removal too
        assertTrue(state(s, 9).getJsonObject("awareness").containsKey("424242"));
        assertEquals("Bob", state(s, 9).getJsonObject("awareness").getJsonObject("424242")
                .getJsonObject("user").getString("name"));
        assertFalse(state(s, 10).getJsonObject("awareness").containsKey("424242"));
        // 11: query-awareness is answered with the provider's states
        var states = assertInstanceOf(HocuspocusCodec.Awareness.class, HocuspocusCodec.decode(only(sent(s, 11))));
        assertEquals(CLIENT_ID, states.entries().get(0).clientId());
        // 12: stateless
        assertTrue(hasEvent(s, 12, "stateless", "payload", "{\"x\":1}"));
        // 13: a token request makes the provider authenticate again
        assertEquals(new HocuspocusCodec.Auth(DOC, "secret-token", "4.8.0"), HocuspocusCodec.decode(only(sent(s, 13))));
        // 14: permission denied -> authenticationFailed, nothing sent, socket not closed
        assertTrue(hasEvent(s, 14, "authenticationFailed", "reason", "expired"));
        assertFalse(state(s, 14).getBoolean("isAuthenticated"));
        assertEquals(0, sent(s, 14).size());
        assertEquals(JsonValue.NULL, s.getJsonObject(14).get("closedWith"));
        // 15: readonly scope is reported as such
        assertEquals("readonly", state(s, 15).getString("authorizedScope"));
        // 16: frames for another document name are not delivered to this provider
        assertEquals(0, s.getJsonObject(16).getJsonArray("events").size());
        assertEquals("hello from the server!", state(s, 16).getString("text"));
        // 17: Close(reason) -> close event with code 1000, synced reset; the socket itself stays open
        assertTrue(hasEvent(s, 17, "close", "reason", "Forbidden"));
        assertTrue(hasEvent(s, 17, "close", "code", "1000"));
        assertFalse(state(s, 17).getBoolean("synced"));
        assertEquals(JsonValue.NULL, s.getJsonObject(17).get("closedWith"));
    }

    @Test
    void yWebsocketClientAcceptsJavaFrames() throws Exception {
        JsonArrayBuilder steps = Json.createArrayBuilder()
                .add(frame(YWebsocketCodec.update(serverUpdate)))                  // 0
                .add(frame(YWebsocketCodec.syncStep2(serverUpdate)))               // 1
                .add(frame(YWebsocketCodec.syncStep1(serverStateVector)))          // 2
                .add(frame(YWebsocketCodec.queryAwareness()))                      // 3
                .add(frame(YWebsocketCodec.awareness(List.of(PEER))))              // 4
                .add(frame(YWebsocketCodec.permissionDenied("no access")))         // 5
                .add(Json.createObjectBuilder().add("edit", "!"))                   // 6
                .add(frame(YWebsocketCodec.awareness(List.of(AwarenessEntry.removed(PEER.clientId(), 1))))) // 7
                .add(frame(YWebsocketCodec.keepAlive()));                           // 8
        JsonObject input = Json.createObjectBuilder()
                .add("ywebsocket", Json.createObjectBuilder().add("room", "room-1").add("steps", steps))
                .build();
        JsonObject out = StockClients.run(input.toString(), "--drive");
        JsonObject run = out.getJsonObject("ywebsocket");

        List<byte[]> opening = frames(run.getJsonArray("opening"));
        assertInstanceOf(YWebsocketCodec.SyncStep1.class, YWebsocketCodec.decode(opening.get(0)));
        assertInstanceOf(YWebsocketCodec.Awareness.class, YWebsocketCodec.decode(opening.get(1)));

        JsonArray s = run.getJsonArray("steps");
        assertEquals("hello from the server", state(s, 0).getString("text"));
        assertFalse(state(s, 0).getBoolean("synced"));
        assertTrue(hasEvent(s, 1, "sync", "state", "true"));
        assertTrue(state(s, 1).getBoolean("synced"));
        assertInstanceOf(YWebsocketCodec.SyncStep2.class, YWebsocketCodec.decode(only(sent(s, 2))));
        var states = assertInstanceOf(YWebsocketCodec.Awareness.class, YWebsocketCodec.decode(only(sent(s, 3))));
        assertEquals(CLIENT_ID, states.entries().get(0).clientId());
        assertTrue(state(s, 4).getJsonObject("awareness").containsKey("424242"));
        assertEquals(0, sent(s, 5).size());
        assertTrue(out.getJsonArray("logged").getValuesAs(JsonObject.class).stream()
                .anyMatch(l -> l.getString("level").equals("warn") && l.getString("message").contains("no access")));
        assertInstanceOf(YWebsocketCodec.SyncUpdate.class, YWebsocketCodec.decode(only(sent(s, 6))));
        assertFalse(state(s, 7).getJsonObject("awareness").containsKey("424242"));
        assertTrue(state(s, 7).getBoolean("wsconnected"));
        // 8: the keep-alive frame is a silent no-op for the client
        assertEquals(0, sent(s, 8).size());
        assertEquals(0, s.getJsonObject(8).getJsonArray("events").size());
        assertTrue(out.getJsonArray("logged").getValuesAs(JsonObject.class).stream()
                .noneMatch(l -> l.getString("level").equals("error")), out.getJsonArray("logged").toString());
    }

    @Test
    void hocuspocusProviderDoesNotUnderstandServerInternalTypes() throws Exception {
        // SyncReply (4) as the Hocuspocus server uses internally: the 4.x provider only logs it as unknown
        byte[] syncReply = dev.collab.protocol.WireFuzz.concat(11, DOC, 4, 0, 0, 1, 0);
        JsonObject input = Json.createObjectBuilder()
                .add("hocuspocus", Json.createObjectBuilder().add("name", DOC).add("token", "")
                        .add("steps", Json.createArrayBuilder().add(frame(syncReply))))
                .build();
        JsonObject out = StockClients.run(input.toString(), "--drive");
        assertTrue(out.getJsonArray("logged").getValuesAs(JsonObject.class).stream()
                .anyMatch(l -> l.getString("level").equals("error") && l.getString("message").contains("unknown type")),
                out.toString());
        JsonObject step = out.getJsonObject("hocuspocus").getJsonArray("steps").getJsonObject(0);
        assertFalse(step.getJsonObject("state").getBoolean("synced"));
        // and the empty token is sent as ""
        assertEquals(new HocuspocusCodec.Auth(DOC, "", "4.8.0"),
                HocuspocusCodec.decode(frames(out.getJsonObject("hocuspocus").getJsonArray("opening")).get(0)));
    }

    // ------------------------------------------------------------------------------------ helpers

    private static JsonObject frame(byte[] bytes) {
        return Json.createObjectBuilder().add("frame", b64(bytes)).build();
    }

    private static List<byte[]> sent(JsonArray steps, int i) {
        return frames(steps.getJsonObject(i).getJsonArray("sent"));
    }

    private static JsonObject state(JsonArray steps, int i) {
        return steps.getJsonObject(i).getJsonObject("state");
    }

    /** Whether step i emitted an event of the type whose field (when given) renders as the expected text. */
    private static boolean hasEvent(JsonArray steps, int i, String type, String field, String expected) {
        for (JsonObject e : steps.getJsonObject(i).getJsonArray("events").getValuesAs(JsonObject.class)) {
            if (!e.getString("type").equals(type)) {
                continue;
            }
            if (field == null) {
                return true;
            }
            JsonValue v = e.get(field);
            String text = v instanceof jakarta.json.JsonString js ? js.getString() : String.valueOf(v);
            if (text.equals(expected)) {
                return true;
            }
        }
        return false;
    }
}
