package dev.collab.protocol.json;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.protocol.EmbeddedConnection;
import dev.collab.protocol.TestRooms;
import dev.collab.room.Room;
import dev.collab.store.MemoryStore;
import dev.collab.testing.YTestUpdates;
import io.helidon.websocket.WsCloseCodes;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON protocol's session without sockets: frames in, frames out, a real Room on a MemoryStore. */
class JsonSessionTest {
    private static final String DOC = "doc-json";
    private static final String STEP = "{\"stepType\":\"replace\",\"from\":1,\"to\":1}";

    private final TestRooms env = new TestRooms();
    private final MemoryStore store = env.store;

    @AfterEach
    void tearDown() {
        env.close();
    }

    private EmbeddedConnection connect(String clientId, AccessPolicy access) {
        JsonProtocol protocol = new JsonProtocol(env.rooms(), access, env.expiry());
        return EmbeddedConnection.open(protocol, JsonProtocol.PATH, Map.of("documentId", DOC, "clientID", clientId));
    }

    /** Connects and reads the greeting. */
    private EmbeddedConnection join(String clientId) {
        EmbeddedConnection c = connect(clientId, AccessPolicy.open());
        JsonObject connected = json(c.nextText());
        assertEquals("connected", connected.getString("type"));
        return c;
    }

    private static AccessPolicy readOnly() {
        return (token, documentId) -> Access.readOnly("viewer");
    }

    private static JsonObject json(String text) {
        return Json.createReader(new StringReader(text)).readObject();
    }

    private static JsonObject next(EmbeddedConnection c, String type) {
        return json(c.nextMatching(String.class, t -> type.equals(json(t).getString("type")), type));
    }

    private static String base64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private List<String> members() throws Exception {
        return env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS);
    }

    @Test
    void greetsWithTheVersionAndCountThenSyncs() {
        EmbeddedConnection a = connect("a", AccessPolicy.open());
        JsonObject connected = json(a.nextText());
        assertEquals("connected", connected.getString("type"));
        assertEquals(DOC, connected.getString("documentId"));
        assertEquals("a", connected.getString("clientID"));
        assertEquals(0, connected.getInt("version"));
        assertEquals(1, connected.getInt("connections"));

        a.text("{\"type\":\"sync\",\"version\":0}");
        JsonObject synced = json(a.nextText());
        assertEquals("synced", synced.getString("type"));
        assertEquals(0, synced.getInt("version"));
    }

    @Test
    void stepsAreCommittedThenSentToEveryoneAndStaleStepsConflict() {
        EmbeddedConnection a = join("a");
        EmbeddedConnection b = join("b");
        a.text("{\"type\":\"steps\",\"version\":0,\"steps\":[%s]}", STEP);
        for (EmbeddedConnection c : List.of(a, b)) {
            JsonObject steps = json(c.nextText());
            assertEquals("steps", steps.getString("type"));
            assertEquals(0, steps.getInt("version"));
            assertEquals("replace", steps.getJsonArray("steps").getJsonObject(0).getString("stepType"));
            assertEquals("a", steps.getJsonArray("clientIDs").getString(0));
        }
        b.text("{\"type\":\"steps\",\"version\":0,\"steps\":[%s]}", STEP);
        JsonObject conflict = json(b.nextText());
        assertEquals("conflict", conflict.getString("type"));
        assertEquals(1, conflict.getInt("version"));

        // a late sync gets the steps after its version, then synced at the head
        EmbeddedConnection c = join("c");
        c.text("{\"type\":\"sync\",\"version\":0}");
        assertEquals(0, next(c, "steps").getInt("version"));
        assertEquals(1, next(c, "synced").getInt("version"));
    }

    @Test
    void updatesAreAcknowledgedToTheSenderAndRelayedToTheOthers() {
        EmbeddedConnection a = join("a");
        EmbeddedConnection b = join("b");
        byte[] update = YTestUpdates.insertText(7, "t", "hi");
        a.text("{\"type\":\"update\",\"update\":\"%s\",\"id\":42}", base64(update));
        JsonObject ack = json(a.nextText());
        assertEquals("ack", ack.getString("type"));
        assertEquals(42, ack.getInt("id"));
        JsonObject relayed = json(b.nextText());
        assertEquals("update", relayed.getString("type"));
        assertArrayEquals(update, Base64.getDecoder().decode(relayed.getString("update")));

        // a joiner's sync brings the Yjs state, then synced
        EmbeddedConnection c = join("c");
        c.text("{\"type\":\"sync\"}");
        assertArrayEquals(update, Base64.getDecoder().decode(next(c, "update").getString("update")));
        next(c, "synced");
    }

    @Test
    void awarenessGoesToTheOthersAndIsRemovedWhenTheClientLeaves() throws Exception {
        EmbeddedConnection a = join("a");
        EmbeddedConnection b = join("b");
        a.text("{\"type\":\"awareness\",\"state\":{\"user\":\"ann\"}}");
        JsonObject seen = json(b.nextText());
        assertEquals("awareness", seen.getString("type"));
        assertEquals("a", seen.getString("clientID"));
        assertEquals("ann", seen.getJsonObject("state").getString("user"));

        a.finish();
        JsonObject gone = json(b.nextText());
        assertEquals("awareness", gone.getString("type"));
        assertEquals("a", gone.getString("clientID"));
        assertTrue(gone.isNull("state"));
        assertEquals(List.of("b"), members());
        assertTrue(a.drain().isEmpty(), "a client never gets its own awareness back");
    }

    @Test
    void readOnlyClientsAreRefusedWrites() {
        EmbeddedConnection viewer = connect("v", readOnly());
        assertEquals("connected", json(viewer.nextText()).getString("type"));
        viewer.text("{\"type\":\"steps\",\"version\":0,\"steps\":[%s]}", STEP);
        JsonObject error = json(viewer.nextText());
        assertEquals("error", error.getString("type"));
        assertEquals("read-only", error.getString("code"));
        viewer.text("{\"type\":\"update\",\"update\":\"%s\"}", base64(YTestUpdates.insertText(7, "t", "x")));
        assertEquals("read-only", json(viewer.nextText()).getString("code"));
        assertEquals(2, viewer.refused("read-only"));
        assertTrue(viewer.isOpen(), "a refused write does not close the connection");
    }

    @Test
    void aSnapshotAtACommittedVersionIsAcknowledgedAndOnePastTheHeadIsRefused() {
        EmbeddedConnection a = join("a");
        a.text("{\"type\":\"steps\",\"version\":0,\"steps\":[%s]}", STEP);
        next(a, "steps");
        a.text("{\"type\":\"snapshot\",\"version\":1,\"doc\":{\"type\":\"doc\"},\"id\":5}");
        JsonObject ack = next(a, "ack");
        assertEquals(5, ack.getInt("id"));
        assertEquals(1, store.head(DOC).stepVersion());
        a.text("{\"type\":\"snapshot\",\"version\":2,\"doc\":{\"type\":\"doc\"},\"id\":6}");
        JsonObject error = next(a, "error");
        assertEquals("invalid-version", error.getString("code"));
        assertEquals(1, a.refused("invalid-version"));

        EmbeddedConnection viewer = connect("v", readOnly());
        assertEquals("connected", json(viewer.nextText()).getString("type"));
        viewer.text("{\"type\":\"snapshot\",\"version\":1,\"doc\":{\"type\":\"doc\"}}");
        assertEquals("read-only", next(viewer, "error").getString("code"));
        assertEquals(1, viewer.refused("read-only"));
        assertTrue(a.isOpen() && viewer.isOpen(), "a refused snapshot does not close the connection");
    }

    @Test
    void aFullDocumentClosesTheNewConnectionToTryAgainLater() throws Exception {
        env.maxConnectionsPerDocument(1);
        join("a");
        EmbeddedConnection b = connect("b", AccessPolicy.open());
        b.assertClosedWith(WsCloseCodes.TRY_AGAIN_LATER);
        assertEquals("the document already has 1 connections", b.closeReason());
        assertEquals(List.of("a"), members());
    }

    @Test
    void aDocumentKeepsTheKindOfItsFirstWrite() {
        EmbeddedConnection a = join("a");
        a.text("{\"type\":\"steps\",\"version\":0,\"steps\":[%s]}", STEP);
        next(a, "steps");
        a.text("{\"type\":\"update\",\"update\":\"%s\",\"id\":1}", base64(YTestUpdates.insertText(7, "t", "x")));
        JsonObject error = next(a, "error");
        assertEquals("document-kind", error.getString("code"));
        assertEquals(1, a.refused("document-kind"));
    }

    @Test
    void anUpdateThatWouldPassTheMaximumSizeIsRefused() {
        env.maxDocumentBytes(64);
        EmbeddedConnection a = join("a");
        a.text("{\"type\":\"update\",\"update\":\"%s\",\"id\":1}",
                base64(YTestUpdates.insertText(7, "t", "x".repeat(200))));
        JsonObject error = json(a.nextText());
        assertEquals("error", error.getString("type"));
        assertEquals("document-too-large", error.getString("code"));
        assertEquals(1, a.refused("document-too-large"));
        assertTrue(a.isOpen());
    }

    @Test
    void badInputIsAnsweredWithAnErrorAndTheConnectionStays() {
        EmbeddedConnection a = join("a");
        a.text("{not json");
        assertEquals("invalid-json", json(a.nextText()).getString("code"));
        a.text("{\"type\":\"teleport\"}");
        assertEquals("unknown-type", json(a.nextText()).getString("code"));
        a.text("{\"type\":\"update\",\"update\":\"%s\"}", base64(new byte[] {1, 2, 3}));
        assertEquals("invalid-update", json(a.nextText()).getString("code"));
        assertEquals(3, a.refused("invalid-message"));
        a.text("{\"type\":\"ping\"}");
        assertEquals("{\"type\":\"pong\"}", a.nextText());
        assertTrue(a.isOpen());
    }

    @Test
    void aNewerConnectionWithTheSameClientIdReplacesTheOlder() throws Exception {
        EmbeddedConnection older = join("same");
        EmbeddedConnection newer = join("same");
        EmbeddedConnection.Close close = older.awaitClose();
        assertEquals(4001, close.code());
        assertEquals("replaced by a newer connection with the same clientID", close.reason());
        older.finish();     // the transport's cleanup after the close: leaves nothing of the newer behind
        assertEquals(List.of("same"), members());
        assertTrue(newer.isOpen());
    }

    @Test
    void closingLeavesTheRoomOnceHoweverOftenItIsCalled() throws Exception {
        EmbeddedConnection a = join("a");
        Room room = env.rooms().acquire(DOC);
        a.finish();
        a.finish();
        assertEquals(List.of(), room.clientIds().get(5, TimeUnit.SECONDS));
        env.rooms().release(room);
        assertFalse(a.isOpen());
    }

    @Test
    void aDeletedDocumentClosesWith4404() throws Exception {
        EmbeddedConnection a = join("a");
        assertFalse(env.rooms().delete(DOC).get(5, TimeUnit.SECONDS));
        assertEquals(new EmbeddedConnection.Close(4404, "document deleted"), a.awaitClose());
    }
}
