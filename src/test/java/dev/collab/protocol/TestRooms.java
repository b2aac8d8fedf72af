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
    private RoomSettings settings = RoomSettings.DEFAULTS.withIdleUnload(Duration.ofMinutes(5))
            .withCompaction(500, 1L << 30);
    private Rooms rooms = build();

    private Rooms build() {
        return new Rooms(store, settings, timer);
    }

    public Rooms rooms() {
        return rooms;
    }

    /** Replaces the rooms with ones whose documents may hold at most {@code bytes} (same store). */
    public void maxDocumentBytes(long bytes) {
        settings = settings.withMaxDocumentBytes(bytes);
        rooms.close();
        rooms = build();
    }

    /** Replaces the rooms with ones whose documents take at most {@code connections} (same store). */
    public void maxConnectionsPerDocument(int connections) {
        settings = settings.withMaxConnectionsPerDocument(connections);
        rooms.close();
        rooms = build();
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
