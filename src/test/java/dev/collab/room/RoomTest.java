package dev.collab.room;

import dev.collab.protocol.json.JsonAwareness;
import dev.collab.store.DocumentKind;
import dev.collab.store.sqlite.SqliteStore;
import dev.collab.store.Store;
import dev.collab.testing.Await;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoomTest {
    private static final String DOC = "doc-1";
    private static final Duration LONG_IDLE = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    private SqliteStore store;
    private ControllableStore controllable;
    private ScheduledExecutorService timer;
    private final List<Rooms> allRooms = new ArrayList<>();

    @BeforeEach
    void setUp() {
        store = SqliteStore.open(dir.resolve("rooms.db"), SqliteStore.Synchronous.NORMAL);
        controllable = new ControllableStore(store);
        timer = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterEach
    void tearDown() {
        allRooms.forEach(Rooms::close);
        timer.shutdownNow();
        store.close();
    }

    private Rooms rooms(Duration idle, int compactionUpdates, int stepsBatch) {
        Rooms rooms = new Rooms(controllable, RoomSettings.DEFAULTS.withIdleUnload(idle)
                .withCompaction(compactionUpdates, 1L << 30).withStepsBatch(stepsBatch), timer);
        allRooms.add(rooms);
        return rooms;
    }

    private Rooms rooms() {
        return rooms(LONG_IDLE, 500, 500);
    }

    /** A JSON client's awareness state, set as the JSON adapter sets it. */
    private static void setJsonAwareness(Room room, Peer peer, String stateJson) {
        room.setAwareness(peer, JsonAwareness.idFor(DOC, peer.clientId()), JsonAwareness::nextClock, stateJson,
                peer.clientId());
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return dev.collab.testing.Await.result(f);
    }

    /** An update the test expects to be committed (a refusal is now a result, not a failed future). */
    private static Room.WriteResult.Committed committed(CompletableFuture<Room.WriteResult> f) throws Exception {
        return assertInstanceOf(Room.WriteResult.Committed.class, get(f));
    }

    private static Throwable failure(CompletableFuture<?> f) {
        return dev.collab.testing.Await.failure(f);
    }

    private static Room.Joined join(Room room, Peer peer) throws Exception {
        return assertInstanceOf(Room.Joined.class, get(room.join(peer, joined -> { })));
    }

    /** Returns once every task handed to the room before this call has run (the owner runs tasks in order). */
    private static List<String> flush(Room room) throws Exception {
        return get(room.clientIds());
    }

    private static String step(int n) {
        return "{\"stepType\":\"replace\",\"from\":" + n + ",\"to\":" + n + "}";
    }

    private static List<String> steps(int from, int count) {
        return IntStream.range(from, from + count).mapToObj(RoomTest::step).toList();
    }

    // ---- membership ---------------------------------------------------------------------------------------

    @Test
    void joinAndLeaveUpdateMembersAndCounts() throws Exception {
        Rooms rooms = rooms();
        Room room = rooms.acquire(DOC);
        assertSame(room, rooms.acquire(DOC), "one room per document");
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        List<Room.Joined> greeted = Collections.synchronizedList(new ArrayList<>());

        Room.Joined ja = assertInstanceOf(Room.Joined.class, get(room.join(a, greeted::add)));
        assertEquals(new Room.Joined(0, 1), ja);
        assertEquals(List.of(ja), greeted, "the greeting callback ran inside the join");
        assertEquals(new Room.Joined(0, 2), join(room, b));
        assertEquals(List.of("a", "b"), flush(room));
        assertEquals(2, room.stats().connections());
        assertEquals(List.of(2), rooms.withConnections().stream().map(Room.Stats::connections).toList());

        room.leave(a);
        room.leave(a);   // a second leave (several exit paths) is harmless
        assertEquals(List.of("b"), flush(room));
        assertEquals(1, room.stats().connections());
        room.leave(b);
        assertEquals(List.of(), flush(room));
        assertEquals(List.of(), rooms.withConnections());
        a.assertNothingPending();
        b.assertNothingPending();
    }

    @Test
    void roomsOfDifferentDocumentsAreIndependent() throws Exception {
        Rooms rooms = rooms();
        Room one = rooms.acquire("one");
        Room two = rooms.acquire("two");
        assertNotSame(one, two);
        RecordingPeer p1 = new RecordingPeer("p1");
        RecordingPeer p2 = new RecordingPeer("p2");
        join(one, p1);
        join(two, p2);
        assertInstanceOf(Room.WriteResult.Committed.class, get(one.submitSteps(p1, 0, steps(0, 1))));
        p1.next(RoomEvent.Steps.class);
        assertEquals(new Room.Joined(0, 2), join(two, new RecordingPeer("p3")), "version is per document");
        flush(two);
        p2.assertNothingPending();
        assertEquals(1, store.head("one").stepVersion());
        assertEquals(0, store.head("two").stepVersion());
    }

    // ---- Yjs updates --------------------------------------------------------------------------------------

    @Test
    void anUpdateIsCommittedThenRelayedWithItsOrigin() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);
        byte[] update = YTestUpdates.insertText(7, "t", "hi");
        assertEquals("010107000401017402686900", YTestUpdates.hex(update), "same bytes as yjs produces");

        committed(room.submitUpdate(a, update));
        // committed before anyone hears of it
        List<Store.StoredUpdate> stored = store.updates(DOC);
        assertEquals(1, stored.size());
        assertArrayEquals(update, stored.get(0).data());

        RoomEvent.Update toB = b.next(RoomEvent.Update.class);
        assertArrayEquals(update, toB.update());
        assertSame(a, toB.origin(), "relayed with its origin so b's adapter knows where it came from");
        // the origin gets the event marked as its own: adapters skip it (no echo to the sender)
        RoomEvent.Update toA = a.next(RoomEvent.Update.class);
        assertSame(a, toA.origin());
        assertEquals(1, room.stats().storedUpdates());
        assertEquals(update.length, room.stats().storedUpdateBytes());
    }

    @Test
    void invalidAndEmptyUpdatesAreNeitherStoredNorRelayed() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);

        assertInstanceOf(Lib0Reader.MalformedException.class,
                failure(room.submitUpdate(a, new byte[] {(byte) 0xff, 0x01, 0x02})));
        byte[] good = YTestUpdates.insertText(7, "t", "hi");
        byte[] trailing = java.util.Arrays.copyOf(good, good.length + 1);
        assertInstanceOf(Lib0Reader.MalformedException.class, failure(room.submitUpdate(a, trailing)));
        assertInstanceOf(Lib0Reader.MalformedException.class, failure(room.submitUpdate(a, new byte[0])));
        committed(room.submitUpdate(a, YUpdates.EMPTY_UPDATE));   // accepted (clients send these) but a no-op

        flush(room);
        assertEquals(List.of(), store.updates(DOC));
        a.assertNothingPending();
        b.assertNothingPending();
        assertEquals(0, room.stats().storedUpdates());
    }

    // ---- ProseMirror authority ----------------------------------------------------------------------------

    @Test
    void stepsAtTheHeadAreCommittedAndSentToEveryoneIncludingTheSender() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);

        assertEquals(new Room.WriteResult.Committed(2), get(room.submitSteps(a, 0, steps(0, 2))));
        for (RecordingPeer p : List.of(a, b)) {
            RoomEvent.Steps s = p.next(RoomEvent.Steps.class);
            assertEquals(0, s.version());
            assertEquals(steps(0, 2), s.steps());
            assertEquals(List.of("a", "a"), s.clientIds(), "the sender recognizes its own steps by clientID");
        }
        List<Store.StoredStep> stored = store.stepsSince(DOC, 0, 10);
        assertEquals(steps(0, 2), stored.stream().map(Store.StoredStep::stepJson).toList());
        assertEquals(List.of("a", "a"), stored.stream().map(Store.StoredStep::clientId).toList());
        assertEquals(2, room.stats().version());

        assertEquals(new Room.WriteResult.Committed(3), get(room.submitSteps(b, 2, steps(2, 1))));
        for (RecordingPeer p : List.of(a, b)) {
            RoomEvent.Steps s = p.next(RoomEvent.Steps.class);
            assertEquals(2, s.version());
            assertEquals(List.of("b"), s.clientIds());
        }
        assertEquals(new Room.Joined(3, 3), join(room, new RecordingPeer("c")), "newcomers see the new version");
    }

    @Test
    void staleVersionIsAConflictAndOutOfRangeVersionsAreInvalid() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);
        get(room.submitSteps(a, 0, steps(0, 2)));
        a.next(RoomEvent.Steps.class);
        b.next(RoomEvent.Steps.class);

        assertEquals(new Room.WriteResult.Conflict(2), get(room.submitSteps(b, 0, steps(10, 1))));
        assertEquals(new Room.WriteResult.Conflict(2), get(room.submitSteps(b, 1, steps(10, 3))));
        for (int bad : new int[] {-1, 3, Integer.MAX_VALUE}) {
            Room.WriteResult outcome = get(room.submitSteps(b, bad, steps(10, 1)));
            Room.WriteResult.Refused invalid = assertInstanceOf(Room.WriteResult.Refused.class, outcome,
                    "version " + bad);
            assertEquals("invalid-version", invalid.code());
            assertFalse(invalid.message().isBlank());
        }
        flush(room);
        a.assertNothingPending();
        b.assertNothingPending();
        assertEquals(2, store.head(DOC).stepVersion(), "nothing of a refused submission is stored");
        assertEquals(2, store.stepsSince(DOC, 0, 10).size());
    }

    @Test
    void stepsAreToldToNobodyBeforeTheyAreCommittedAndLaterSubmissionsAreJudgedAfterTheCommit() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);

        controllable.hold();
        CompletableFuture<Room.WriteResult> first = room.submitSteps(a, 0, steps(0, 1));
        // while version 0's steps are being committed, a submission based on them (a pipelining client) and a
        // concurrent one at version 0 wait: they are judged against the version the commit produces, so a
        // conflict always names a version newer than the one submitted
        CompletableFuture<Room.WriteResult> pipelined = room.submitSteps(a, 1, steps(1, 1));
        CompletableFuture<Room.WriteResult> concurrent = room.submitSteps(b, 0, steps(5, 1));
        flush(room);
        assertFalse(first.isDone(), "not accepted before the commit");
        assertFalse(pipelined.isDone(), "judged only after the commit");
        assertFalse(concurrent.isDone(), "judged only after the commit");
        a.assertNothingPending();
        b.assertNothingPending();
        assertEquals(0, store.head(DOC).stepVersion());
        assertEquals(0, room.stats().version());

        controllable.release();
        assertEquals(new Room.WriteResult.Committed(1), get(first));
        assertEquals(new Room.WriteResult.Committed(2), get(pipelined));
        assertEquals(new Room.WriteResult.Conflict(2), get(concurrent));
        assertEquals(0, a.next(RoomEvent.Steps.class).version());
        assertEquals(0, b.next(RoomEvent.Steps.class).version());
        assertEquals(1, a.next(RoomEvent.Steps.class).version());
        assertEquals(1, b.next(RoomEvent.Steps.class).version());
        assertEquals(List.of(step(0), step(1)),
                store.stepsSince(DOC, 0, 10).stream().map(Store.StoredStep::stepJson).toList());
    }

    @Test
    void anUpdateIsRelayedOnlyAfterItIsCommitted() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);
        controllable.hold();
        CompletableFuture<Room.WriteResult> done = room.submitUpdate(a, YTestUpdates.insertText(7, "t", "x"));
        flush(room);
        assertFalse(done.isDone());
        b.assertNothingPending();
        controllable.release();
        get(done);
        b.next(RoomEvent.Update.class);
        assertEquals(1, store.updates(DOC).size());
    }

    @Test
    void aComputedUpdateSeesWritesStillInFlightAndReachesEveryPeer() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        join(room, a);
        controllable.hold();
        byte[] first = YTestUpdates.insertText(7, "t", "x");
        CompletableFuture<Room.WriteResult> pending = room.submitUpdate(a, first);
        List<byte[]> seen = new ArrayList<>();
        byte[] second = YTestUpdates.appendAfter(8, 0, 7, 0, "y");
        CompletableFuture<Room.WriteResult> computed = room.submitComputedUpdate(state -> {
            seen.add(state);
            return new Room.Computed.Update(second);
        }, "backend");
        flush(room);
        assertEquals(1, seen.size());
        assertEquals(Map.of(7L, 1L), YUpdates.decodeStateVector(YUpdates.stateVector(seen.get(0))),
                "the uncommitted write is part of the state the update is computed from");
        controllable.release();
        get(pending);
        get(computed);
        RoomEvent.Update relayed = a.next(RoomEvent.Update.class);
        assertArrayEquals(second, relayed.update(), "relayed to the peer too: it has no origin connection");
        assertEquals(2, store.updates(DOC).size());

        // a refusal from the builder is a refusal with the builder's code, and stores nothing
        Room.WriteResult refused = get(room.submitComputedUpdate(state -> {
            return new Room.Computed.Refused("field-not-empty", "no");
        }, "backend"));
        assertInstanceOf(Room.WriteResult.Refused.class, refused);
        assertEquals(2, store.updates(DOC).size());
    }

    @Test
    void concurrentSubmissionsAtOneVersionHaveExactlyOneWinner() throws Exception {
        Room room = rooms().acquire(DOC);
        List<RecordingPeer> peers = IntStream.range(0, 8).mapToObj(i -> new RecordingPeer("p" + i)).toList();
        for (RecordingPeer p : peers) {
            join(room, p);
        }
        List<CompletableFuture<Room.WriteResult>> outcomes = peers.parallelStream()
                .map(p -> room.submitSteps(p, 0, List.of(step(peers.indexOf(p))))).toList();
        int accepted = 0;
        for (CompletableFuture<Room.WriteResult> f : outcomes) {
            Room.WriteResult o = get(f);
            if (o instanceof Room.WriteResult.Committed) {
                accepted++;
            } else {
                assertInstanceOf(Room.WriteResult.Conflict.class, o);
            }
        }
        assertEquals(1, accepted);
        String winner = store.stepsSince(DOC, 0, 10).get(0).clientId();
        for (RecordingPeer p : peers) {
            assertEquals(List.of(winner), p.next(RoomEvent.Steps.class).clientIds());
        }
        flush(room);
        for (RecordingPeer p : peers) {
            p.assertNothingPending();
        }
        assertEquals(1, store.head(DOC).stepVersion());
    }

    @Test
    void readOnlyPeersAreRefusedWrites() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer reader = new RecordingPeer("r", true, false);
        RecordingPeer writer = new RecordingPeer("w");
        join(room, reader);
        join(room, writer);

        Room.WriteResult.Refused invalid = assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.submitSteps(reader, 0, steps(0, 1))));
        assertEquals("read-only", invalid.code());
        Room.WriteResult.Refused refused = assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.submitUpdate(reader, YTestUpdates.insertText(7, "t", "x"))));
        assertEquals("read-only", refused.code());

        flush(room);
        writer.assertNothingPending();
        reader.assertNothingPending();
        assertEquals(Store.DocumentHead.EMPTY, store.head(DOC));

        // it still receives what others write
        get(room.submitSteps(writer, 0, steps(0, 1)));
        assertEquals(List.of("w"), reader.next(RoomEvent.Steps.class).clientIds());
    }

    // ---- same clientID ------------------------------------------------------------------------------------

    @Test
    void aNewerConnectionWithTheSameJsonClientIdReplacesTheOlder() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer older = new RecordingPeer("same");
        RecordingPeer other = new RecordingPeer("other");
        join(room, older);
        join(room, other);
        setJsonAwareness(room, older, "{\"name\":\"old tab\"}");
        other.next(RoomEvent.Awareness.class);

        RecordingPeer newer = new RecordingPeer("same");
        assertEquals(new Room.Joined(0, 2), join(room, newer), "the older one no longer counts");
        RecordingPeer.Closed closed = older.closed.get(5, TimeUnit.SECONDS);
        assertTrue(closed.code() >= 4000 && closed.code() <= 4999, "4000-range close code, got " + closed.code());
        assertFalse(closed.reason().isBlank());
        assertEquals(List.of("other", "same"), flush(room).stream().sorted().toList());

        RoomEvent.Awareness gone = other.next(RoomEvent.Awareness.class);
        assertEquals("null", gone.entries().get(0).stateJson(), "the replaced connection's awareness is removed");
        assertEquals("same", gone.entries().get(0).ownerClientId());

        // the older connection's own cleanup arrives later and must not remove the newer one
        room.leave(older);
        assertEquals(List.of("other", "same"), flush(room).stream().sorted().toList());
        assertEquals(2, room.stats().connections());
        get(room.submitSteps(newer, 0, steps(0, 1)));
        assertEquals(List.of("same"), newer.next(RoomEvent.Steps.class).clientIds());
        assertFalse(newer.closed.isDone());
        older.drain().forEach(e -> assertFalse(e instanceof RoomEvent.Steps, "replaced peer got " + e));
    }

    @Test
    void peersThatAreNotReplacedBySameClientIdCoexist() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer first = new RecordingPeer("y", false, true);
        RecordingPeer second = new RecordingPeer("y", false, true);
        join(room, first);
        assertEquals(new Room.Joined(0, 2), join(room, second));
        assertEquals(List.of("y", "y"), flush(room));
        assertFalse(first.closed.isDone());
    }

    // ---- awareness ----------------------------------------------------------------------------------------

    @Test
    void awarenessIsRelayedSnapshottedAndRemovedWhenItsOwnerLeaves() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);
        long idA = JsonAwareness.idFor(DOC, "a");

        setJsonAwareness(room, a, "{\"user\":\"ann\",\"cursor\":1}");
        RoomEvent.Awareness toB = b.next(RoomEvent.Awareness.class);
        assertSame(a, toB.origin());
        long firstClock = toB.entries().get(0).clock();
        // Yjs clients ignore a new id's state at clock 0, and keep clocks across reconnects: wall-clock based
        assertTrue(firstClock > 0, "a first state needs a clock above 0");
        assertEquals(List.of(new AwarenessEntry(idA, firstClock, "{\"user\":\"ann\",\"cursor\":1}", "a")),
                toB.entries());
        assertSame(a, a.next(RoomEvent.Awareness.class).origin(), "marked as a's own, so a's adapter skips it");

        setJsonAwareness(room, a, "{\"user\":\"ann\",\"cursor\":5}");
        long secondClock = b.next(RoomEvent.Awareness.class).entries().get(0).clock();
        assertTrue(secondClock > firstClock, "clock advances");
        a.next(RoomEvent.Awareness.class);

        // a newcomer gets the latest states
        RecordingPeer c = new RecordingPeer("c");
        join(room, c);
        room.sendAwareness(c);
        RoomEvent.Awareness snapshot = c.next(RoomEvent.Awareness.class);
        assertEquals(List.of(new AwarenessEntry(idA, secondClock, "{\"user\":\"ann\",\"cursor\":5}", "a")),
                snapshot.entries());

        // a leaves: the others are told its state is gone
        room.leave(a);
        for (RecordingPeer p : List.of(b, c)) {
            RoomEvent.Awareness removal = p.next(RoomEvent.Awareness.class);
            assertNull(removal.origin());
            assertEquals(1, removal.entries().size());
            AwarenessEntry e = removal.entries().get(0);
            assertEquals("a", e.ownerClientId());
            assertEquals(idA, e.awarenessId());
            assertTrue(e.removed());
            assertEquals(secondClock + 1, e.clock());
        }
        RecordingPeer d = new RecordingPeer("d");
        join(room, d);
        room.sendAwareness(d);
        flush(room);
        d.assertNothingPending();
        a.assertNothingPending();
    }

    @Test
    void aYjsPeerRelayingTheRemovalOfAJsonClientsStateKeepsItsOwnerSoJsonPeersSeeItGo() throws Exception {
        // the stock providers re-send every removal they see, with the numeric id only; the JSON watcher knows the
        // state by its owner's clientID and must be told under that name (seen across nodes: a dead node's cursor
        // stayed on a JSON client of a live node for good)
        Room room = rooms().acquire(DOC);
        RecordingPeer json = new RecordingPeer("json-owner");
        RecordingPeer yjs = new RecordingPeer("yjs");
        RecordingPeer watcher = new RecordingPeer("watcher");
        join(room, json);
        join(room, yjs);
        join(room, watcher);
        setJsonAwareness(room, json, "{\"cursor\":1}");
        AwarenessEntry set = watcher.next(RoomEvent.Awareness.class).entries().get(0);
        yjs.next(RoomEvent.Awareness.class);
        assertEquals("json-owner", set.ownerClientId());

        room.updateAwareness(yjs, List.of(new AwarenessEntry(set.awarenessId(), set.clock() + 1, "null", null)));
        AwarenessEntry removal = watcher.next(RoomEvent.Awareness.class).entries().get(0);
        assertTrue(removal.removed());
        assertEquals(set.awarenessId(), removal.awarenessId());
        assertEquals("json-owner", removal.ownerClientId(), "the removal names the state's owner");
        RecordingPeer late = new RecordingPeer("late");
        join(room, late);
        room.sendAwareness(late);
        flush(room);
        late.assertNothingPending();   // the state is gone from the table too
    }

    @Test
    void aClientClearsItsOwnAwarenessWithNull() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);
        setJsonAwareness(room, b, "{\"user\":\"bob\"}");
        a.next(RoomEvent.Awareness.class);
        setJsonAwareness(room, b, "null");
        assertTrue(a.next(RoomEvent.Awareness.class).entries().get(0).removed());
        room.leave(b);   // nothing left to remove
        RecordingPeer c = new RecordingPeer("c");
        join(room, c);
        room.sendAwareness(c);
        flush(room);
        c.assertNothingPending();
        a.assertNothingPending();   // b had no state left, so its leaving broadcasts nothing
    }

    // ---- catch-up -----------------------------------------------------------------------------------------

    @Test
    void catchUpSendsStepsInBatchesThenAwarenessThenSynced() throws Exception {
        Room room = rooms(LONG_IDLE, 500, 2).acquire(DOC);
        RecordingPeer w = new RecordingPeer("w");
        join(room, w);
        get(room.submitSteps(w, 0, steps(0, 5)));
        w.next(RoomEvent.Steps.class);
        setJsonAwareness(room, w, "{\"user\":\"w\"}");
        flush(room);
        w.drain();

        RecordingPeer late = new RecordingPeer("late");
        join(room, late);
        room.catchUp(late, 0, null);
        List<Integer> batchVersions = new ArrayList<>();
        List<String> allSteps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RoomEvent.Steps s = late.next(RoomEvent.Steps.class);
            batchVersions.add(s.version());
            allSteps.addAll(s.steps());
            assertEquals(Collections.nCopies(s.steps().size(), "w"), s.clientIds());
        }
        assertEquals(List.of(0, 2, 4), batchVersions, "steps come in batches of steps-batch");
        assertEquals(steps(0, 5), allSteps);
        assertEquals("{\"user\":\"w\"}", late.next(RoomEvent.Awareness.class).entries().get(0).stateJson());
        assertEquals(5, late.next(RoomEvent.Synced.class).version());
        late.assertNothingPending();

        // from version 3: only the missing steps; at the head: nothing but awareness and synced
        room.catchUp(late, 3, null);
        RoomEvent.Steps rest = late.next(RoomEvent.Steps.class);
        assertEquals(3, rest.version());
        assertEquals(steps(3, 2), rest.steps());
        late.next(RoomEvent.Awareness.class);
        assertEquals(5, late.next(RoomEvent.Synced.class).version());
        room.catchUp(late, 5, null);
        late.next(RoomEvent.Awareness.class);
        late.next(RoomEvent.Synced.class);
        flush(room);
        late.assertNothingPending();
    }

    @Test
    void catchUpSendsTheUpdateThenAwarenessThenSynced() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer w = new RecordingPeer("w");
        join(room, w);
        byte[] first = YTestUpdates.insertText(7, "t", "hi");
        byte[] second = YTestUpdates.appendAfter(9, 0, 7, 1, "!");
        committed(room.submitUpdate(w, first));
        committed(room.submitUpdate(w, second));
        setJsonAwareness(room, w, "{\"user\":\"w\"}");
        flush(room);
        w.drain();

        RecordingPeer late = new RecordingPeer("late");
        join(room, late);
        room.catchUp(late, 0, null);
        RoomEvent.SyncStep2 state = late.next(RoomEvent.SyncStep2.class);
        assertNull(state.stateVector());
        assertEquals(Map.of(7L, 2L, 9L, 1L), YUpdates.decodeStateVector(YUpdates.stateVector(state.update())));
        assertArrayEquals(YUpdates.merge(List.of(first, second)), state.update());
        assertEquals("{\"user\":\"w\"}", late.next(RoomEvent.Awareness.class).entries().get(0).stateJson());
        assertEquals(0, late.next(RoomEvent.Synced.class).version());
        late.assertNothingPending();

        // a state vector that has client 7: only client 9's insert
        room.catchUp(late, null, YUpdates.encodeStateVector(Map.of(7L, 2L)));
        assertArrayEquals(second, late.next(RoomEvent.SyncStep2.class).update());
        late.next(RoomEvent.Awareness.class);
        late.next(RoomEvent.Synced.class);

        // up to date (full state vector): nothing but awareness and synced
        room.catchUp(late, null, YUpdates.stateVector(YUpdates.merge(List.of(first, second))));
        assertTrue(YUpdates.isEmpty(late.next(RoomEvent.SyncStep2.class).update()), "nothing is missing");
        late.next(RoomEvent.Awareness.class);
        late.next(RoomEvent.Synced.class);
        flush(room);
        late.assertNothingPending();
    }

    @Test
    void catchUpOfAnEmptyDocumentIsJustSynced() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer p = new RecordingPeer("p");
        join(room, p);
        room.catchUp(p, 0, null);
        assertEquals(0, p.next(RoomEvent.Synced.class).version());
        flush(room);
        p.assertNothingPending();
    }

    // ---- lifecycle ----------------------------------------------------------------------------------------

    @Test
    void anIdleRoomIsUnloadedAndReloadsItsHistoryFromTheStore() throws Exception {
        Rooms rooms = rooms(Duration.ofMillis(50), 500, 500);
        Room room = rooms.acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        join(room, a);
        get(room.submitSteps(a, 0, steps(0, 2)));
        a.next(RoomEvent.Steps.class);
        Room yjsRoom = rooms.acquire("yjs-doc");
        join(yjsRoom, a);
        byte[] update = YTestUpdates.insertText(7, "t", "kept");
        committed(yjsRoom.submitUpdate(a, update));
        room.leave(a);
        yjsRoom.leave(a);
        rooms.release(room);
        rooms.release(yjsRoom);

        Await.until("the idle rooms to be unloaded", () -> rooms.size() == 0);

        Room again = rooms.acquire(DOC);
        assertNotSame(room, again);
        RecordingPeer b = new RecordingPeer("b");
        assertEquals(new Room.Joined(2, 1), join(again, b), "the version comes back from the store");
        assertEquals(DocumentKind.STEPS, again.stats().kind(), "so does the kind");
        again.catchUp(b, 0, null);
        RoomEvent.Steps s = b.next(RoomEvent.Steps.class);
        assertEquals(steps(0, 2), s.steps());
        assertEquals(List.of("a", "a"), s.clientIds());
        assertEquals(2, b.next(RoomEvent.Synced.class).version());

        Room yjsAgain = rooms.acquire("yjs-doc");
        join(yjsAgain, b);
        yjsAgain.catchUp(b, null, null);
        assertArrayEquals(update, b.next(RoomEvent.SyncStep2.class).update());
        assertEquals(1, yjsAgain.stats().storedUpdates());
        assertEquals(DocumentKind.YJS, yjsAgain.stats().kind());

        // the update log continues where it stopped (no sequence number reused)
        committed(yjsAgain.submitUpdate(b, YTestUpdates.appendAfter(7, 4, 7, 3, "!")));
        assertEquals(List.of(1L, 2L), store.updates("yjs-doc").stream().map(Store.StoredUpdate::seq).toList());
    }

    @Test
    void compactionMergesTheLogWithoutLosingState() throws Exception {
        Room room = rooms(LONG_IDLE, 2, 500).acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        join(room, a);
        byte[] u1 = YTestUpdates.insertText(7, "t", "a");
        byte[] u2 = YTestUpdates.appendAfter(7, 1, 7, 0, "b");
        byte[] u3 = YTestUpdates.appendAfter(7, 2, 7, 1, "c");
        committed(room.submitUpdate(a, u1));
        committed(room.submitUpdate(a, u2));   // reaches compaction-updates: log 1..2 is merged into one row at seq 2
        Await.until("the first two updates to be compacted",
                () -> store.updates(DOC).stream().map(Store.StoredUpdate::seq).toList().equals(List.of(2L)));
        committed(room.submitUpdate(a, u3));
        assertEquals(List.of(2L, 3L), store.updates(DOC).stream().map(Store.StoredUpdate::seq).toList());
        assertArrayEquals(YUpdates.merge(List.of(u1, u2), true), store.updates(DOC).get(0).data());
        Await.until("stats to count the compacted log", () -> room.stats().storedUpdates() == 2);

        // a fresh room over the same store sees the whole state
        Room reloaded = rooms().acquire(DOC);
        RecordingPeer b = new RecordingPeer("b");
        join(reloaded, b);
        reloaded.catchUp(b, null, null);
        byte[] state = b.next(RoomEvent.SyncStep2.class).update();
        assertEquals(Map.of(7L, 3L), YUpdates.decodeStateVector(YUpdates.stateVector(state)));
    }

    @Test
    void aFailedCommitIsReportedToItsSenderAndTheRoomCarriesOn() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(room, a);
        join(room, b);

        controllable.failWrites(true);
        Room.WriteResult.Refused invalid = assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.submitSteps(a, 0, steps(0, 1))));
        assertEquals("storage-failure", invalid.code());
        Room.WriteResult.Refused refused = assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.submitUpdate(a, YTestUpdates.insertText(7, "t", "lost"))));
        assertEquals("storage-failure", refused.code());
        flush(room);
        a.assertNothingPending();
        b.assertNothingPending();
        assertFalse(a.closed.isDone());
        assertFalse(b.closed.isDone());
        assertEquals(0, room.stats().version());

        // once the store recovers, the same version is free again and nothing of the failure remains: not even
        // the kind (the failed update was the last write, yet steps may still be the first)
        controllable.failWrites(false);
        assertEquals(new Room.WriteResult.Committed(1), get(room.submitSteps(b, 0, steps(7, 1))));
        assertEquals(List.of("b"), a.next(RoomEvent.Steps.class).clientIds());
        assertEquals(List.of("b"), b.next(RoomEvent.Steps.class).clientIds());
        assertEquals(List.of(step(7)), store.stepsSince(DOC, 0, 10).stream().map(Store.StoredStep::stepJson).toList());
        assertEquals(0, store.updates(DOC).size());
        assertEquals(DocumentKind.STEPS, store.head(DOC).kind());
    }

    @Test
    void aSnapshotIsStoredAtACommittedVersionAndEveryRefusalIsAResult() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer writer = new RecordingPeer("w");
        RecordingPeer reader = new RecordingPeer("r", true, false);
        RecordingPeer stranger = new RecordingPeer("s");
        join(room, writer);
        join(room, reader);
        get(room.submitSteps(writer, 0, steps(0, 2)));

        String doc = "{\"type\":\"doc\"}";
        assertEquals(new Room.WriteResult.Committed(2), get(room.saveSnapshot(writer, 2, doc)));
        assertEquals(2, store.snapshot(DOC).orElseThrow().version());
        assertEquals(Room.Refusal.INVALID_VERSION, assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.saveSnapshot(writer, 3, doc))).refusal());
        assertEquals(Room.Refusal.READ_ONLY, assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.saveSnapshot(reader, 1, doc))).refusal());
        assertEquals(Room.Refusal.NOT_JOINED, assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.saveSnapshot(stranger, 1, doc))).refusal());
        controllable.failWrites(true);
        assertEquals(Room.Refusal.STORAGE_FAILURE, assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.saveSnapshot(writer, 1, doc))).refusal());
        controllable.failWrites(false);
        assertEquals(2, store.snapshot(DOC).orElseThrow().version(), "no refused snapshot was stored");
    }

    @Test
    void connectionsThatAreNotMembersCannotWrite() throws Exception {
        Room room = rooms().acquire(DOC);
        RecordingPeer member = new RecordingPeer("m");
        RecordingPeer stranger = new RecordingPeer("s");
        join(room, member);
        Room.WriteResult.Refused invalid = assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.submitSteps(stranger, 0, steps(0, 1))));
        assertEquals("not-joined", invalid.code());
        assertEquals("not-joined", assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.submitUpdate(stranger, YTestUpdates.insertText(7, "t", "x")))).code());
        setJsonAwareness(room, stranger, "{\"x\":1}");
        room.catchUp(stranger, 0, null);
        flush(room);
        member.assertNothingPending();
        stranger.assertNothingPending();

        // a peer that left is a stranger too (its late messages are dropped)
        room.leave(member);
        assertEquals("not-joined", assertInstanceOf(Room.WriteResult.Refused.class,
                get(room.submitSteps(member, 0, steps(0, 1)))).code());
        assertEquals(Store.DocumentHead.EMPTY, store.head(DOC));
    }

    @Test
    void aFullDocumentRefusesMoreConnections() throws Exception {
        Rooms rooms = new Rooms(controllable, RoomSettings.DEFAULTS.withIdleUnload(LONG_IDLE)
                .withCompaction(500, 1L << 30).withMaxConnectionsPerDocument(2), timer);
        allRooms.add(rooms);
        Room room = rooms.acquire(DOC);
        join(room, new RecordingPeer("one"));
        join(room, new RecordingPeer("two"));
        Room.JoinResult.Refused full = assertInstanceOf(Room.JoinResult.Refused.class,
                get(room.join(new RecordingPeer("three"), joined -> { })));
        assertEquals("document-full", full.code());
        assertEquals(List.of("one", "two"), flush(room));
        // replacing a client's older connection is not an extra connection
        assertEquals(new Room.Joined(0, 2), join(room, new RecordingPeer("two")));
    }

    @Test
    void theFirstWriteFixesTheKindAndWritesOfTheOtherKindAreRefusedAndGoNowhere() throws Exception {
        Room steps = rooms().acquire(DOC);
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        join(steps, a);
        join(steps, b);
        assertNull(steps.stats().kind(), "no kind before the first write");
        get(steps.submitSteps(a, 0, steps(0, 1)));
        a.next(RoomEvent.Steps.class);
        b.next(RoomEvent.Steps.class);
        assertEquals(DocumentKind.STEPS, steps.stats().kind());
        Room.WriteResult.Refused refused = assertInstanceOf(Room.WriteResult.Refused.class,
                get(steps.submitUpdate(a, YTestUpdates.insertText(7, "t", "x"))));
        assertEquals("document-kind", refused.code());
        committed(steps.submitUpdate(a, YUpdates.EMPTY_UPDATE));   // an empty update (sent on connect) changes nothing
        flush(steps);
        a.assertNothingPending();
        b.assertNothingPending();
        assertEquals(List.of(), store.updates(DOC));

        Room yjs = rooms().acquire("yjs-doc");
        join(yjs, a);
        join(yjs, b);
        committed(yjs.submitUpdate(a, YTestUpdates.insertText(7, "t", "x")));
        a.next(RoomEvent.Update.class);      // recorded for every peer; the adapter skips its own
        b.next(RoomEvent.Update.class);
        Room.WriteResult.Refused invalid = assertInstanceOf(Room.WriteResult.Refused.class,
                get(yjs.submitSteps(a, 0, steps(0, 1))));
        assertEquals("document-kind", invalid.code());
        flush(yjs);
        a.assertNothingPending();
        b.assertNothingPending();
        assertEquals(List.of(), store.stepsSince("yjs-doc", 0, 10));
        assertEquals(DocumentKind.YJS, yjs.stats().kind());
    }
}
