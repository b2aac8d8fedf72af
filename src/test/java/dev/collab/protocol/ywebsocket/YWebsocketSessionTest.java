package dev.collab.protocol.ywebsocket;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.protocol.EmbeddedConnection;
import dev.collab.protocol.TestRooms;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.json.JsonProtocol;
import dev.collab.store.MemoryStore;
import dev.collab.testing.YTestUpdates;
import io.helidon.websocket.WsCloseCodes;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The y-websocket session without sockets: frames in, frames out, a real Room on a MemoryStore. */
class YWebsocketSessionTest {
    private static final String DOC = "doc-yws";

    private final TestRooms env = new TestRooms();
    private final MemoryStore store = env.store;

    @AfterEach
    void tearDown() {
        env.close();
    }

    private YWebsocketProtocol protocol(AccessPolicy access) {
        return new YWebsocketProtocol(env.rooms(), access, env.expiry());
    }

    private EmbeddedConnection connect(AccessPolicy access) {
        return EmbeddedConnection.open(protocol(access), YWebsocketProtocol.PREFIX + DOC, Map.of());
    }

    /** Connects and reads the server's sync step 1. */
    private EmbeddedConnection join() {
        EmbeddedConnection c = connect(AccessPolicy.open());
        assertInstanceOf(YWebsocketCodec.SyncStep1.class, YWebsocketCodec.decode(c.nextBinary()));
        return c;
    }

    private static YWebsocketCodec.Message read(EmbeddedConnection c) {
        return YWebsocketCodec.decode(c.nextBinary());
    }

    private static <T extends YWebsocketCodec.Message> T next(EmbeddedConnection c, Class<T> type) {
        return type.cast(YWebsocketCodec.decode(c.nextMatching(byte[].class,
                b -> type.isInstance(YWebsocketCodec.decode(b)), type.getSimpleName())));
    }

    /** Sends an update and waits until it is committed (the other client has it). */
    private static void write(EmbeddedConnection from, EmbeddedConnection witness, byte[] update) {
        from.binary(YWebsocketCodec.update(update));
        assertArrayEquals(update, next(witness, YWebsocketCodec.SyncUpdate.class).update());
    }

    @Test
    void opensWithSyncStep1AndAnswersTheClientsStep1WithWhatItLacks() {
        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        byte[] update = YTestUpdates.insertText(7, "t", "hi");
        write(a, b, update);

        EmbeddedConnection c = connect(AccessPolicy.open());
        YWebsocketCodec.SyncStep1 step1 = assertInstanceOf(YWebsocketCodec.SyncStep1.class, read(c));
        assertArrayEquals(YUpdates.stateVector(update), step1.stateVector());
        c.binary(YWebsocketCodec.syncStep1(new byte[] {0}));
        YWebsocketCodec.SyncStep2 step2 = assertInstanceOf(YWebsocketCodec.SyncStep2.class, read(c));
        assertArrayEquals(YUpdates.stateVector(update), YUpdates.stateVector(step2.update()));
    }

    @Test
    void aFullDocumentClosesTheNewConnectionAndCountsTheRefusal() throws Exception {
        env.maxConnectionsPerDocument(1);
        join();
        EmbeddedConnection refused = connect(AccessPolicy.open());
        refused.assertClosedWith(WsCloseCodes.TRY_AGAIN_LATER);
        assertEquals(1, refused.refused("document-full"));
        assertEquals(1, env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS).size());
    }

    @Test
    void updatesAreRelayedToTheOthersNotBackToTheSender() throws Exception {
        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        write(a, b, YTestUpdates.insertText(7, "t", "hi"));
        write(b, a, YTestUpdates.appendAfter(8, 0, 7, 1, "!"));
        // the room has answered everything a sent before this call: nothing else reached a
        env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS);
        assertTrue(a.drain().isEmpty(), "no echo of its own update");
    }

    @Test
    void awarenessIsEchoedToEveryoneAndRemovedWhenTheConnectionGoes() {
        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        a.binary(YWebsocketCodec.awareness(List.of(new AwarenessEntry(11, 1, "{\"user\":\"ann\"}"))));
        for (EmbeddedConnection c : List.of(a, b)) {
            AwarenessEntry e = next(c, YWebsocketCodec.Awareness.class).entries().getFirst();
            assertEquals(11, e.clientId());
            assertEquals("{\"user\":\"ann\"}", e.state());
        }
        b.binary(YWebsocketCodec.queryAwareness());
        assertEquals(11, next(b, YWebsocketCodec.Awareness.class).entries().getFirst().clientId());

        a.finish();
        AwarenessEntry gone = next(b, YWebsocketCodec.Awareness.class).entries().getFirst();
        assertEquals(11, gone.clientId());
        assertEquals(2, gone.clock());
        assertTrue(gone.isRemoved());

        EmbeddedConnection late = join();
        late.binary(YWebsocketCodec.queryAwareness());
        late.binary(YWebsocketCodec.update(YTestUpdates.insertText(9, "t", "x")));
        assertArrayEquals(YTestUpdates.insertText(9, "t", "x"), next(b, YWebsocketCodec.SyncUpdate.class).update());
        assertTrue(late.drain().isEmpty(), "no awareness states left to send");
    }

    @Test
    void aReadOnlyClientsChangesAreDroppedAndCounted() throws Exception {
        EmbeddedConnection writer = join();
        EmbeddedConnection viewer = connect((token, id) -> Access.readOnly("viewer"));
        read(viewer);
        viewer.binary(YWebsocketCodec.update(YTestUpdates.insertText(7, "t", "x")));
        write(writer, viewer, YTestUpdates.insertText(8, "t", "y"));
        assertEquals(1, viewer.refused("read-only"));
        env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS);
        assertTrue(writer.drain().isEmpty(), "the refused update was not relayed");
        assertTrue(viewer.isOpen());
    }

    @Test
    void anUpdateToAStepsDocumentIsRefused() {
        JsonProtocol json = new JsonProtocol(env.rooms(), AccessPolicy.open(), env.expiry());
        EmbeddedConnection steps = EmbeddedConnection.open(json, JsonProtocol.PATH, Map.of("documentId", DOC, "clientID", "s"));
        steps.nextText();
        steps.text("{\"type\":\"steps\",\"version\":0,\"steps\":[{\"stepType\":\"replace\"}]}");
        steps.nextMatching(String.class, t -> t.contains("\"steps\""), "steps");

        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        a.binary(YWebsocketCodec.update(YTestUpdates.insertText(7, "t", "x")));
        b.binary(YWebsocketCodec.update(YTestUpdates.insertText(8, "t", "y")));
        steps.text("{\"type\":\"ping\"}");
        assertEquals("{\"type\":\"pong\"}", steps.nextText());
        assertEquals(1, awaitRefused(a, "document-kind"));
        assertTrue(a.isOpen(), "refused like a read-only write: the connection stays");
    }

    private static long awaitRefused(EmbeddedConnection c, String reason) {
        // refusals are counted when the room answers; a query through the room orders after it
        c.binary(YWebsocketCodec.queryAwareness());
        c.binary(YWebsocketCodec.syncStep1(new byte[] {0}));
        next(c, YWebsocketCodec.SyncStep2.class);
        return c.refused(reason);
    }

    @Test
    void anUpdatePastTheMaximumSizeClosesWith1009() {
        env.maxDocumentBytes(64);
        EmbeddedConnection a = join();
        a.binary(YWebsocketCodec.update(YTestUpdates.insertText(7, "t", "x".repeat(200))));
        assertEquals(new EmbeddedConnection.Close(1009, "document-too-large"), a.awaitClose());
        assertEquals(1, a.refused("document-too-large"));
    }

    @Test
    void malformedMessagesCloseWith1007() {
        EmbeddedConnection garbage = join();
        garbage.binary(new byte[] {(byte) 0xff});
        assertEquals(1007, garbage.awaitClose().code());
        assertEquals(1, garbage.refused("invalid-message"));

        EmbeddedConnection unknown = join();
        unknown.binary(new byte[] {42});
        EmbeddedConnection.Close close = unknown.awaitClose();
        assertEquals(1007, close.code());
        assertTrue(close.reason().contains("unknown message type 42"), close.reason());

        EmbeddedConnection badUpdate = join();
        badUpdate.binary(YWebsocketCodec.update(new byte[] {5, 5, 5}));
        close = badUpdate.awaitClose();
        assertEquals(1007, close.code());
        assertTrue(close.reason().startsWith("invalid Yjs update"), close.reason());
    }

    @Test
    void theKeepaliveIsAnEmptyAwarenessUpdate() {
        assertArrayEquals(YWebsocketCodec.keepAlive(), (byte[]) protocol(AccessPolicy.open()).keepalive());
        assertEquals(List.of(), assertInstanceOf(YWebsocketCodec.Awareness.class,
                YWebsocketCodec.decode(YWebsocketCodec.keepAlive())).entries());
    }

    @Test
    void closingLeavesTheRoomOnceAndADeletedDocumentClosesWith4404() throws Exception {
        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        a.finish();
        a.finish();
        assertEquals(1, env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS).size());
        env.rooms().delete(DOC).get(5, TimeUnit.SECONDS);
        assertEquals(new EmbeddedConnection.Close(4404, "document deleted"), b.awaitClose());
    }
}
