package dev.collab.room;

import dev.collab.store.Store;
import dev.collab.store.sqlite.SqliteStore;
import dev.collab.testing.Await;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Merges run beside the rooms: one held open by the test stops neither its room nor any other. */
class RoomMergeTest {
    @TempDir
    Path dir;

    private SqliteStore store;
    private ScheduledExecutorService timer;
    private Rooms rooms;
    private final CountDownLatch mergeStarted = new CountDownLatch(1);
    private final CountDownLatch releaseMerge = new CountDownLatch(1);

    @BeforeEach
    void setUp() {
        store = SqliteStore.open(dir.resolve("merge.db"), SqliteStore.Synchronous.NORMAL);
        timer = Executors.newSingleThreadScheduledExecutor();
        RoomSettings settings = RoomSettings.DEFAULTS.withIdleUnload(Duration.ofMinutes(5))
                .withCompaction(2, 1L << 30).withMaxConnectionsPerDocument(100).withMaxDocumentBytes(4096);
        rooms = new Rooms(store, settings, timer, DocumentEvents.NONE, Bus.NONE, updates -> {
            mergeStarted.countDown();
            try {
                releaseMerge.await();       // the test holds the merge open
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return YUpdates.merge(updates, true);
        }, System::nanoTime);
    }

    @AfterEach
    void tearDown() {
        releaseMerge.countDown();
        rooms.close();
        timer.shutdownNow();
        store.close();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return dev.collab.testing.Await.result(f);
    }

    @Test
    void aMergeHeldOpenBlocksNeitherItsRoomsRelayNorOtherRooms() throws Exception {
        Room busy = rooms.acquire("busy");
        RecordingPeer writer = new RecordingPeer("writer");
        RecordingPeer reader = new RecordingPeer("reader");
        get(busy.join(writer, j -> { }));
        get(busy.join(reader, j -> { }));
        assertInstanceOf(Room.WriteResult.Committed.class, get(busy.submitUpdate(writer, YTestUpdates.insertText(7, "t", "ab"))));
        assertInstanceOf(Room.WriteResult.Committed.class, get(busy.submitUpdate(writer, YTestUpdates.appendAfter(7, 2, 7, 1, "cd"))));   // makes a merge due
        assertTrue(mergeStarted.await(10, TimeUnit.SECONDS), "the merge started");
        reader.next(RoomEvent.Update.class);
        reader.next(RoomEvent.Update.class);

        // the same room relays and commits while its merge is held
        byte[] third = YTestUpdates.appendAfter(7, 4, 7, 3, "ef");
        assertInstanceOf(Room.WriteResult.Committed.class, get(busy.submitUpdate(writer, third)));
        assertArrayEquals(third, reader.next(RoomEvent.Update.class).update());
        // a late joiner is answered from the merged state plus what is pending
        RecordingPeer late = new RecordingPeer("late");
        get(busy.join(late, j -> { }));
        busy.answerSyncStep1(late, YUpdates.encodeStateVector(Map.of()));
        assertEquals(Map.of(7L, 6L), YUpdates.decodeStateVector(YUpdates.stateVector(
                late.next(RoomEvent.SyncStep2.class).update())));

        // another room works as usual
        Room other = rooms.acquire("other");
        RecordingPeer a = new RecordingPeer("a");
        RecordingPeer b = new RecordingPeer("b");
        get(other.join(a, j -> { }));
        get(other.join(b, j -> { }));
        byte[] elsewhere = YTestUpdates.insertText(9, "t", "hello");
        assertInstanceOf(Room.WriteResult.Committed.class, get(other.submitUpdate(a, elsewhere)));
        assertArrayEquals(elsewhere, b.next(RoomEvent.Update.class).update());
        assertEquals(3, store.updates("busy").size(), "nothing compacted while the merge is held");

        releaseMerge.countDown();
        Await.until("the merge to be stored over the rows it covered",
                () -> store.updates("busy").stream().map(Store.StoredUpdate::seq).toList().equals(List.of(2L, 3L)));
        Await.until("the room's stats to count the compacted log", () -> busy.stats().storedUpdates() == 2);
    }

    @Test
    void aConnectionPastingFasterThanTheStoreCommitsIsReadNoFasterThanThat() throws Exception {
        releaseMerge.countDown();
        ControllableStore slow = new ControllableStore(store);
        Rooms held = new Rooms(slow, RoomSettings.DEFAULTS.withIdleUnload(Duration.ofMinutes(5))
                .withCompaction(500, 1L << 30).withMaxConnectionsPerDocument(100).withMaxDocumentBytes(1L << 30),
                timer, DocumentEvents.NONE, Bus.NONE, updates -> YUpdates.merge(updates, true), System::nanoTime);
        try {
            Room room = held.acquire("paste");
            RecordingPeer writer = new RecordingPeer("writer");
            get(room.join(writer, j -> { }));
            slow.hold();     // commits wait until released
            String chunk = "x".repeat(1 << 20);
            java.util.concurrent.atomic.AtomicInteger submitted = new java.util.concurrent.atomic.AtomicInteger();
            List<CompletableFuture<Room.WriteResult>> commits = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread reader = Thread.ofVirtual().start(() -> {     // a connection's reader submitting 8 MiB
                commits.add(room.submitUpdate(writer, YTestUpdates.insertText(7, "t", chunk)));
                submitted.incrementAndGet();
                for (int i = 1; i < 8; i++) {
                    long clock = (long) i << 20;
                    commits.add(room.submitUpdate(writer, YTestUpdates.appendAfter(7, clock, 7, clock - 1, chunk)));
                    submitted.incrementAndGet();
                }
            });
            Await.until("the reader to be held once 4 MiB wait for the store",
                    () -> submitted.get() == 4 && reader.getState() == Thread.State.TIMED_WAITING);
            slow.release();
            reader.join(10_000);
            assertEquals(8, submitted.get());
            for (CompletableFuture<Room.WriteResult> commit : commits) {
                assertInstanceOf(Room.WriteResult.Committed.class, get(commit));
            }
            assertEquals(8, store.updates("paste").size());
        } finally {
            held.close();
        }
    }

    @Test
    void aWritePastTheMaximumDocumentSizeIsRefusedAndNotStored() throws Exception {
        releaseMerge.countDown();
        Room room = rooms.acquire("big");
        RecordingPeer writer = new RecordingPeer("writer");
        RecordingPeer reader = new RecordingPeer("reader");
        get(room.join(writer, j -> { }));
        get(room.join(reader, j -> { }));
        byte[] first = YTestUpdates.insertText(7, "t", "x".repeat(3000));
        assertInstanceOf(Room.WriteResult.Committed.class, get(room.submitUpdate(writer, first)));
        byte[] tooMuch = YTestUpdates.appendAfter(7, 3000, 7, 2999, "y".repeat(2000));
        Room.WriteResult refused = get(room.submitUpdate(writer, tooMuch));
        assertEquals("document-too-large", assertInstanceOf(Room.WriteResult.Refused.class, refused).code());
        assertEquals(1, store.updates("big").size(), "the refused update was not stored");
        // reads keep working, and so do writes that fit
        room.answerSyncStep1(reader, YUpdates.encodeStateVector(Map.of()));
        reader.next(RoomEvent.Update.class);
        assertEquals(Map.of(7L, 3000L), YUpdates.decodeStateVector(YUpdates.stateVector(
                reader.next(RoomEvent.SyncStep2.class).update())));
        assertInstanceOf(Room.WriteResult.Committed.class, get(room.submitUpdate(writer, YTestUpdates.appendAfter(7, 3000, 7, 2999, "z"))));
        reader.next(RoomEvent.Update.class);
        reader.assertNothingPending();
    }
}
