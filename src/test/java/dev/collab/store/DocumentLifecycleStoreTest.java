package dev.collab.store;

import dev.collab.room.RoomSettings;
import dev.collab.room.Rooms;
import dev.collab.testing.YTestUpdates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store methods behind the document API: metadata, listing, snapshots, deletion, retention. */
class DocumentLifecycleStoreTest {
    @TempDir
    Path dir;
    private SqliteStore store;

    @BeforeEach
    void open() {
        store = SqliteStore.open(dir.resolve("lifecycle.db"), SqliteStore.Synchronous.NORMAL);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void metadataCountsTheHistoryAndTracksTheLastChange() throws Exception {
        assertTrue(store.document("d").isEmpty());
        byte[] update = YTestUpdates.insertText(1, "t", "abc");
        store.appendUpdate("d", 1, update).join();
        Store.DocumentInfo first = store.document("d").orElseThrow();
        assertEquals(1, first.updateCount());
        assertEquals(update.length, first.bytes());
        assertEquals("yjs", first.kind());
        assertEquals(first.createdAt(), first.updatedAt());
        long before = first.updatedAt();
        while (System.currentTimeMillis() == before) {
            Thread.onSpinWait();          // the next change must get a later millisecond than the first
        }
        store.appendUpdate("d", 2, YTestUpdates.appendAfter(1, 3, 1, 2, "d")).join();
        Store.DocumentInfo second = store.document("d").orElseThrow();
        assertEquals(first.createdAt(), second.createdAt());
        assertTrue(second.updatedAt() > before);

        store.appendSteps("s", 0, List.of("{\"stepType\":\"replace\"}"), "c").join();
        Store.DocumentInfo steps = store.document("s").orElseThrow();
        assertEquals(1, steps.stepVersion());
        assertEquals("{\"stepType\":\"replace\"}".length(), steps.bytes());
    }

    @Test
    void listingIsInIdOrderFromACursorWithinAPrefix() {
        for (String id : List.of("b/2", "a", "b/1", "b", "c")) {
            store.appendUpdate(id, 1, YTestUpdates.insertText(1, "t", id)).join();
        }
        assertEquals(List.of("a", "b", "b/1", "b/2", "c"), ids(store.documents("", null, 10)));
        assertEquals(List.of("b", "b/1"), ids(store.documents("b", null, 2)));
        assertEquals(List.of("b/2"), ids(store.documents("b", "b/1", 2)));
        assertEquals(List.of("b/1", "b/2"), ids(store.documents("b/", "a", 5)));
        assertEquals(List.of(), ids(store.documents("z", null, 5)));
    }

    @Test
    void theNewestSnapshotWins() {
        store.appendSteps("s", 0, List.of("{\"stepType\":\"a\"}", "{\"stepType\":\"b\"}"), "c").join();
        assertTrue(store.snapshot("s").isEmpty());
        store.saveSnapshot("s", 2, "{\"type\":\"doc\",\"v\":2}").join();
        store.saveSnapshot("s", 1, "{\"type\":\"doc\",\"v\":1}").join();
        assertEquals(new Store.StoredSnapshot(2, "{\"type\":\"doc\",\"v\":2}"), store.snapshot("s").orElseThrow());
    }

    @Test
    void deleteRemovesEverythingOfOneDocumentOnly() {
        store.appendSteps("s", 0, List.of("{\"stepType\":\"a\"}"), "c").join();
        store.saveSnapshot("s", 1, "{\"type\":\"doc\"}").join();
        store.appendUpdate("keep", 1, YTestUpdates.insertText(1, "t", "x")).join();

        assertTrue(store.delete("s").join());
        assertFalse(store.delete("s").join(), "a second delete finds nothing");
        assertTrue(store.document("s").isEmpty());
        assertTrue(store.snapshot("s").isEmpty());
        assertEquals(List.of(), store.stepsSince("s", 0, 10));
        assertEquals(0, store.head("s").stepVersion());
        assertTrue(store.document("keep").isPresent());
    }

    @Test
    void retentionDeletesDocumentsUntouchedSinceTheCutoffAndKeepsTheRest() throws Exception {
        store.appendUpdate("old", 1, YTestUpdates.insertText(1, "t", "x")).join();
        long cutoff = store.document("old").orElseThrow().updatedAt() + 1;
        while (System.currentTimeMillis() < cutoff) {
            Thread.onSpinWait();
        }
        store.appendUpdate("fresh", 1, YTestUpdates.insertText(1, "t", "y")).join();
        assertEquals(List.of("old"), store.untouchedSince(cutoff, 10));

        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (Rooms rooms = new Rooms(store, new RoomSettings(Duration.ofMinutes(1), 500, 1L << 30, 500), timer)) {
            assertEquals(1, rooms.deleteUntouchedSince(cutoff, 10));
        } finally {
            timer.shutdownNow();
        }
        assertTrue(store.document("old").isEmpty());
        assertTrue(store.document("fresh").isPresent());
    }

    private static List<String> ids(List<Store.DocumentInfo> docs) {
        return docs.stream().map(Store.DocumentInfo::documentId).toList();
    }
}
