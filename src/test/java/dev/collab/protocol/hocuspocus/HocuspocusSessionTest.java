package dev.collab.protocol.hocuspocus;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.protocol.EmbeddedConnection;
import dev.collab.protocol.TestRooms;
import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.json.JsonProtocol;
import dev.collab.store.MemoryStore;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Writer;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Hocuspocus session without sockets: frames in, frames out, a real Room on a MemoryStore. Client frames are
 * built here byte by byte (what HocuspocusProvider sends), server frames read the same way.
 */
class HocuspocusSessionTest {
    private static final String DOC = "doc-hp";

    private final TestRooms env = new TestRooms();
    private final MemoryStore store = env.store;

    @AfterEach
    void tearDown() {
        env.close();
    }

    // ---- frames ----

    /** A server frame: its document name, message type and what follows. */
    record Frame(String doc, int type, Lib0Reader rest) {
        int sub() {
            return (int) rest.readVarUint();
        }

        String string() {
            return rest.readVarString();
        }

        byte[] bytes() {
            return rest.readVarUint8Array();
        }
    }

    private static Frame frame(byte[] b) {
        Lib0Reader r = new Lib0Reader(b);
        String doc = r.readVarString();
        return new Frame(doc, (int) r.readVarUint(), r);
    }

    private static Frame next(EmbeddedConnection c) {
        return frame(c.nextBinary());
    }

    private static Frame next(EmbeddedConnection c, int type) {
        return frame(c.nextMatching(byte[].class, b -> b.length > 1 && frame(b).type() == type, "type " + type));
    }

    private static byte[] auth(String doc, String token) {
        return new Lib0Writer().writeVarString(doc).writeVarUint(HocuspocusCodec.AUTH)
                .writeVarUint(HocuspocusCodec.AUTH_TOKEN).writeVarString(token).writeVarString("4.8.0").toByteArray();
    }

    private static byte[] closeDoc(String doc) {
        return new Lib0Writer().writeVarString(doc).writeVarUint(HocuspocusCodec.CLOSE).toByteArray();
    }

    private static byte[] update(String doc, byte[] update) {
        return HocuspocusCodec.update(doc, update);
    }

    // ---- connections ----

    private HocuspocusProtocol protocol(AccessPolicy access, HocuspocusLimits limits) {
        return new HocuspocusProtocol(env.rooms(), limits, access, env.expiry());
    }

    private EmbeddedConnection connect(AccessPolicy access, HocuspocusLimits limits) {
        return EmbeddedConnection.open(protocol(access, limits), HocuspocusProtocol.PATH, Map.of());
    }

    private EmbeddedConnection connect() {
        return connect(AccessPolicy.open(), HocuspocusLimits.DEFAULT);
    }

    /** Authenticates {@code doc} and reads the answer. */
    private static String authenticate(EmbeddedConnection c, String doc) {
        c.binary(auth(doc, "token"));
        Frame f = next(c, HocuspocusCodec.AUTH);
        assertEquals(doc, f.doc());
        assertEquals(HocuspocusCodec.AUTH_AUTHENTICATED, f.sub());
        return f.string();
    }

    private EmbeddedConnection join() {
        EmbeddedConnection c = connect();
        assertEquals("read-write", authenticate(c, DOC));
        return c;
    }

    private static HocuspocusSession session(EmbeddedConnection c) {
        return (HocuspocusSession) c.handler();
    }

    /** Waits for everything the room was asked before (a query through the room answers after it). */
    private void settle() throws Exception {
        env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS);
    }

    // ---- tests ----

    @Test
    void authenticatesThenAnswersStep1WithStep2AndItsOwnStep1() {
        EmbeddedConnection a = connect();
        assertFalse(a.handler().isAuthenticated());
        assertEquals("read-write", authenticate(a, DOC));
        assertTrue(a.handler().isAuthenticated());
        a.binary(HocuspocusCodec.syncStep1(DOC, new byte[] {0}));
        Frame step2 = next(a);
        assertEquals(HocuspocusCodec.SYNC, step2.type());
        assertEquals(HocuspocusCodec.SYNC_STEP2, step2.sub());
        Frame step1 = next(a);
        assertEquals(HocuspocusCodec.SYNC, step1.type());
        assertEquals(HocuspocusCodec.SYNC_STEP1, step1.sub());
    }

    @Test
    void updatesAreAcknowledgedAfterTheCommitAndRelayed() {
        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        byte[] u = YTestUpdates.insertText(7, "t", "hi");
        a.binary(update(DOC, u));
        Frame status = next(a, HocuspocusCodec.SYNC_STATUS);
        assertEquals(1, status.sub());
        Frame relayed = next(b, HocuspocusCodec.SYNC);
        assertEquals(HocuspocusCodec.SYNC_UPDATE, relayed.sub());
        assertArrayEquals(u, relayed.bytes());
        assertEquals(1, store.updatesAfter(DOC, 0, 10).size(), "acknowledged means stored");
    }

    @Test
    void framesBeforeAuthAreQueuedThenHandledInOrder() {
        EmbeddedConnection b = join();
        EmbeddedConnection a = connect();
        byte[] u = YTestUpdates.insertText(7, "t", "early");
        a.binary(update(DOC, u));
        assertEquals(1, session(a).pendingFrames());
        assertEquals("read-write", authenticate(a, DOC));
        assertEquals(0, session(a).pendingFrames());
        assertEquals(0, session(a).pendingBytes());
        assertEquals(1, next(a, HocuspocusCodec.SYNC_STATUS).sub());
        Frame relayed = next(b, HocuspocusCodec.SYNC);
        assertEquals(HocuspocusCodec.SYNC_UPDATE, relayed.sub());
        assertArrayEquals(u, relayed.bytes());
    }

    @Test
    void awarenessAndStatelessReachTheOthers() {
        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        a.binary(HocuspocusCodec.awareness(DOC, List.of(new AwarenessEntry(5, 1, "{\"user\":\"ann\"}"))));
        AwarenessEntry seen = AwarenessCodec.decode(next(b, HocuspocusCodec.AWARENESS).bytes()).getFirst();
        assertEquals(5, seen.clientId());
        assertEquals("{\"user\":\"ann\"}", seen.state());

        a.binary(HocuspocusCodec.stateless(DOC, "{\"ping\":1}"));
        assertEquals("{\"ping\":1}", next(b, HocuspocusCodec.STATELESS).string());

        a.finish();
        AwarenessEntry gone = AwarenessCodec.decode(next(b, HocuspocusCodec.AWARENESS).bytes()).getFirst();
        assertEquals(5, gone.clientId());
        assertTrue(gone.isRemoved());
    }

    @Test
    void aReadOnlyDocumentAnswersWritesWithSyncStatusFalse() {
        EmbeddedConnection viewer = connect((token, id) -> Access.readOnly("viewer"), HocuspocusLimits.DEFAULT);
        assertEquals("readonly", authenticate(viewer, DOC));
        viewer.binary(update(DOC, YTestUpdates.insertText(7, "t", "x")));
        assertEquals(0, next(viewer, HocuspocusCodec.SYNC_STATUS).sub());
        assertEquals(1, viewer.refused("read-only"));
        assertTrue(viewer.isOpen());
    }

    @Test
    void writesOfTheWrongKindAndPastTheMaximumSizeAreRefused() {
        env.maxDocumentBytes(64);
        JsonProtocol json = new JsonProtocol(env.rooms(), AccessPolicy.open(), env.expiry());
        EmbeddedConnection steps = EmbeddedConnection.open(json, JsonProtocol.PATH,
                Map.of("documentId", "steps-doc", "clientID", "s"));
        steps.nextText();
        steps.text("{\"type\":\"steps\",\"version\":0,\"steps\":[{\"stepType\":\"replace\"}]}");
        steps.nextMatching(String.class, t -> t.contains("\"steps\""), "steps");

        EmbeddedConnection a = connect();
        authenticate(a, "steps-doc");
        a.binary(update("steps-doc", YTestUpdates.insertText(7, "t", "x")));
        assertEquals(0, next(a, HocuspocusCodec.SYNC_STATUS).sub());
        assertEquals(1, a.refused("document-kind"));

        authenticate(a, DOC);
        a.binary(update(DOC, YTestUpdates.insertText(7, "t", "x".repeat(200))));
        assertEquals(0, next(a, HocuspocusCodec.SYNC_STATUS).sub());
        assertEquals(1, a.refused("document-too-large"));
        assertTrue(a.isOpen());
    }

    @Test
    void aRefusedDocumentGetsPermissionDenied() {
        EmbeddedConnection a = connect((token, id) -> Access.forbidden("not yours"), HocuspocusLimits.DEFAULT);
        a.binary(auth(DOC, "token"));
        Frame denied = next(a);
        assertEquals(HocuspocusCodec.AUTH, denied.type());
        assertEquals(HocuspocusCodec.AUTH_PERMISSION_DENIED, denied.sub());
        assertEquals("not yours", denied.string());
        assertEquals(1, a.refused("auth"));
        assertFalse(a.handler().isAuthenticated());
    }

    @Test
    void aFullDocumentGetsPermissionDeniedAndTheSocketStays() throws Exception {
        env.maxConnectionsPerDocument(1);
        join();
        EmbeddedConnection b = connect();
        b.binary(auth(DOC, "token"));
        Frame denied = next(b, HocuspocusCodec.AUTH);
        assertEquals(HocuspocusCodec.AUTH_PERMISSION_DENIED, denied.sub());
        assertEquals("the document already has 1 connections", denied.string());
        assertEquals(1, b.refused("document-full"));
        assertTrue(b.isOpen(), "only that document is refused");
        settle();
        assertEquals(1, env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS).size());
    }

    @Test
    void malformedAndUnknownFramesCloseWith1007() {
        EmbeddedConnection garbage = join();
        garbage.binary(new byte[] {(byte) 0xff, (byte) 0xff});
        assertEquals(1007, garbage.awaitClose().code());
        assertEquals(1, garbage.refused("invalid-message"));

        EmbeddedConnection unknown = join();
        unknown.binary(new Lib0Writer().writeVarString(DOC).writeVarUint(42).toByteArray());
        assertEquals(1007, unknown.awaitClose().code());

        EmbeddedConnection badUpdate = join();
        badUpdate.binary(update(DOC, new byte[] {5, 5, 5}));
        EmbeddedConnection.Close close = badUpdate.awaitClose();
        assertEquals(1007, close.code());
        assertTrue(close.reason().startsWith("invalid Yjs update"), close.reason());
    }

    @Test
    void closingADocumentLeavesItsRoomAndTheSocketStays() throws Exception {
        EmbeddedConnection a = join();
        EmbeddedConnection b = join();
        a.binary(closeDoc(DOC));
        settle();
        assertEquals(List.of("hocuspocus-" + b.id()),
                env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS));
        assertTrue(a.isOpen());
        a.finish();
        a.finish();
        b.finish();
        assertEquals(List.of(), env.rooms().acquire(DOC).clientIds().get(5, TimeUnit.SECONDS));
    }

    @Test
    void theKeepaliveIsTheProvidersPing() {
        assertArrayEquals(new byte[] {HocuspocusCodec.PING},
                (byte[]) protocol(AccessPolicy.open(), HocuspocusLimits.DEFAULT).keepalive());
    }

    // ---- the pre-auth bound (issue #11: its counters drifted) ----

    @Test
    void aCloseBeforeAuthGivesBackWhatItsDocumentHeld() {
        EmbeddedConnection a = connect(AccessPolicy.open(), new HocuspocusLimits(64, 4, 1 << 20));
        for (int i = 0; i < 3; i++) {
            a.binary(HocuspocusCodec.syncStep1("x", new byte[] {0}));
        }
        a.binary(closeDoc("x"));
        assertEquals(0, session(a).pendingFrames(), "the closed document's frames are not waiting any more");
        assertEquals(0, session(a).pendingBytes());
        for (int i = 0; i < 4; i++) {
            a.binary(HocuspocusCodec.syncStep1("y", new byte[] {0}));
        }
        assertTrue(a.isOpen(), "4 frames waiting is within the bound of 4 (before the fix: 7, closed)");
        a.binary(HocuspocusCodec.syncStep1("y", new byte[] {0}));
        assertEquals(new EmbeddedConnection.Close(HocuspocusCodec.CLOSE_UNAUTHORIZED,
                "too many frames before authentication"), a.awaitClose());
    }

    @Test
    void aRefusedAuthGivesBackItsFramesAndBytes() {
        byte[] frame = HocuspocusCodec.syncStep1("x", new byte[] {0});
        HocuspocusLimits limits = new HocuspocusLimits(64, 100, 4L * frame.length);
        AccessPolicy onlyY = (token, id) -> id.equals("x") ? Access.forbidden("no") : Access.readWrite(null);
        EmbeddedConnection a = connect(onlyY, limits);
        for (int i = 0; i < 4; i++) {
            a.binary(HocuspocusCodec.syncStep1("x", new byte[] {0}));
        }
        a.binary(auth("x", "token"));
        assertEquals(HocuspocusCodec.AUTH_PERMISSION_DENIED, next(a).sub());
        assertEquals(0, session(a).pendingFrames());
        assertEquals(0, session(a).pendingBytes(), "before the fix the refused frames' bytes stayed counted");
        for (int i = 0; i < 4; i++) {
            a.binary(HocuspocusCodec.syncStep1("y", new byte[] {0}));
        }
        assertTrue(a.isOpen(), "the bytes bound holds exactly the frames waiting");
    }

    @Test
    void anAcceptedAuthGivesBackOnlyItsOwnDocumentsBytes() {
        EmbeddedConnection a = connect();
        byte[] forA = HocuspocusCodec.syncStep1("a", new byte[] {0});
        byte[] forB = HocuspocusCodec.syncStep1("b", new byte[] {0});
        a.binary(forA);
        a.binary(forB);
        a.binary(forB);
        authenticate(a, "a");
        assertEquals(2, session(a).pendingFrames());
        assertEquals(2L * forB.length, session(a).pendingBytes(),
                "before the fix the bytes of the authenticated document stayed counted while others waited");
        authenticate(a, "b");
        assertEquals(0, session(a).pendingFrames());
        assertEquals(0, session(a).pendingBytes());
    }
}
