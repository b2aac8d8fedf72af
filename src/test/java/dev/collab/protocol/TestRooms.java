package dev.collab.protocol;

import dev.collab.auth.Expiry;
import dev.collab.room.RoomSettings;
import dev.collab.room.Rooms;
import dev.collab.store.MemoryStore;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Real rooms on a {@link MemoryStore} for the socketless session tests, and what their protocols need. */
public final class TestRooms implements AutoCloseable {
    public final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    public final MemoryStore store = new MemoryStore();
    private Rooms rooms = build(RoomSettings.DEFAULT_MAX_DOCUMENT_BYTES);

    private Rooms build(long maxDocumentBytes) {
        return new Rooms(store, RoomSettings.DEFAULTS.withIdleUnload(Duration.ofMinutes(5))
                .withCompaction(500, 1L << 30).withMaxDocumentBytes(maxDocumentBytes), timer);
    }

    public Rooms rooms() {
        return rooms;
    }

    /** Replaces the rooms with ones whose documents may hold at most {@code bytes} (same store). */
    public void maxDocumentBytes(long bytes) {
        rooms.close();
        rooms = build(bytes);
    }

    public Expiry expiry() {
        return new Expiry(timer, Clock.systemUTC());
    }

    @Override
    public void close() {
        rooms.close();
        timer.shutdownNow();
    }
}
