package dev.collab.room;

import dev.collab.store.Store;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The rooms in memory, one per document. A connection {@link #acquire acquires} its room for its lifetime and
 * {@link #release releases} it on every exit path; a room nobody holds, with no store write in flight, is
 * dropped after the idle delay and reloads from the store on the next acquire. Pins and removal both happen
 * inside the map's per-key compute, so a room is never dropped while being acquired (no global lock).
 */
public final class Rooms implements AutoCloseable {
    private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();
    private final Store store;
    private final RoomSettings settings;
    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService timer;
    private final DocumentEvents events;

    public Rooms(Store store, RoomSettings settings, ScheduledExecutorService timer) {
        this(store, settings, timer, DocumentEvents.NONE);
    }

    public Rooms(Store store, RoomSettings settings, ScheduledExecutorService timer, DocumentEvents events) {
        this.store = store;
        this.settings = settings;
        this.timer = timer;
        this.events = events;
    }

    /** The document's room, created (and loaded lazily) when absent; pinned until {@link #release}. */
    public Room acquire(String documentId) {
        return rooms.compute(documentId, (id, room) -> {
            Room r = room == null ? new Room(id, store, settings, pool, events) : room;
            r.pins.incrementAndGet();
            return r;
        });
    }

    public void release(Room room) {
        if (room.pins.decrementAndGet() == 0) {
            scheduleUnload(room, settings.idleUnload().toMillis());
        }
    }

    private void scheduleUnload(Room room, long delayMillis) {
        timer.schedule(() -> {
            rooms.computeIfPresent(room.documentId(), (id, current) -> {
                if (current != room) {
                    return current;
                }
                if (room.pins.get() > 0) {
                    return room;
                }
                if (room.inFlight.get() > 0) {
                    scheduleUnload(room, Math.max(100, delayMillis / 10));   // let the writes land first
                    return room;
                }
                return null;
            });
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Deletes a document, loaded or not: its peers are told and removed, its history deleted; the next
     * connection starts an empty document. Completes with whether it was stored.
     */
    public CompletableFuture<Boolean> delete(String documentId) {
        Room room = acquire(documentId);
        return room.delete().whenComplete((existed, error) -> release(room));
    }

    /** The room of a document if it is in memory (for admin reads and broadcasts to live rooms). */
    public Room find(String documentId) {
        return rooms.get(documentId);
    }

    public Collection<Room> all() {
        return new ArrayList<>(rooms.values());
    }

    public int size() {
        return rooms.size();
    }

    public List<Room.Stats> withConnections() {
        return rooms.values().stream().map(Room::stats).filter(s -> s.connections() > 0).toList();
    }

    @Override
    public void close() {
        pool.shutdown();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
