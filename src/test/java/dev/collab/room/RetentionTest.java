package dev.collab.room;

import dev.collab.store.MemoryStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** COLLAB_DOCUMENT_RETENTION_DAYS' sweep: untouched documents go, fresh ones and ones in use stay. */
class RetentionTest {
    @Test
    void deletesDocumentsUntouchedSinceTheCutoffButNotFreshOnesOrOnesWithConnections() throws Exception {
        MemoryStore store = new MemoryStore();
        store.appendUpdate("old", new byte[] {0, 0}).join();
        store.appendUpdate("old-but-open", new byte[] {0, 0}).join();
        long cutoff = store.document("old-but-open").orElseThrow().updatedAt() + 1;
        while (System.currentTimeMillis() < cutoff) {
            Thread.onSpinWait();
        }
        store.appendUpdate("fresh", new byte[] {0, 0}).join();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (Rooms rooms = new Rooms(store, RoomSettings.DEFAULTS.withIdleUnload(Duration.ofMinutes(1)).withCompaction(500, 1L << 30), timer)) {
            Room open = rooms.acquire("old-but-open");
            open.join(new RecordingPeer("reader"), joined -> { }).get();

            assertEquals(1, rooms.deleteUntouchedSince(cutoff, 10));
        } finally {
            timer.shutdownNow();
        }
        assertTrue(store.document("old").isEmpty());
        assertTrue(store.document("old-but-open").isPresent());
        assertTrue(store.document("fresh").isPresent());
    }
}
