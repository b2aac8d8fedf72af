package dev.collab.room;

import dev.collab.store.Store;
import dev.collab.yjs.YUpdates;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

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
    /**
     * Merges of large documents take seconds of CPU: on virtual threads they would occupy the carriers that every
     * room and every connection's reader runs on, so they get their own few platform threads (at most this many
     * merges at a time, server-wide; the others queue).
     */
    private final ExecutorService merges;
    private final Function<List<byte[]>, byte[]> merger;
    private final ScheduledExecutorService timer;
    private final DocumentEvents events;
    private final Bus bus;
    private final java.util.concurrent.atomic.AtomicBoolean checkingHeads = new java.util.concurrent.atomic.AtomicBoolean();
    private long headTicks;
    private final LongSupplier nanoClock;

    public Rooms(Store store, RoomSettings settings, ScheduledExecutorService timer) {
        this(store, settings, timer, DocumentEvents.NONE);
    }

    public Rooms(Store store, RoomSettings settings, ScheduledExecutorService timer, DocumentEvents events) {
        this(store, settings, timer, events, Bus.NONE);
    }

    /**
     * With a bus, every loaded room's head is compared with the store's once a second (every tick while the bus
     * is down, when the store is all there is): the batched check that finds what the bus lost.
     */
    public Rooms(Store store, RoomSettings settings, ScheduledExecutorService timer, DocumentEvents events, Bus bus) {
        this(store, settings, timer, events, bus, updates -> YUpdates.merge(updates, true), System::nanoTime);
    }

    /**
     * With the function merging a document's updates (tests hold it open to show the room carries on) and the
     * clock of {@code timer} (tests pass their virtual time for both).
     */
    Rooms(Store store, RoomSettings settings, ScheduledExecutorService timer, DocumentEvents events, Bus bus,
          Function<List<byte[]>, byte[]> merger, LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.store = store;
        this.settings = settings;
        this.timer = timer;
        this.events = events;
        this.merger = merger;
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        this.merges = Executors.newFixedThreadPool(threads, Thread.ofPlatform().name("yjs-merge-", 0).daemon().factory());
        this.bus = bus;
        if (bus.enabled()) {
            bus.onNodeGone(node -> rooms.values().forEach(r -> r.nodeGone(node)));
            timer.scheduleWithFixedDelay(this::headTick, HEAD_TICK_MS, HEAD_TICK_MS, TimeUnit.MILLISECONDS);
        }
    }

    static final long HEAD_TICK_MS = 250;

    private void headTick() {
        if (++headTicks % 4 != 0 && bus.connected()) {
            return;
        }
        if (rooms.isEmpty() || !checkingHeads.compareAndSet(false, true)) {
            return;
        }
        pool.execute(() -> {
            try {
                List<String> ids = new ArrayList<>(rooms.keySet());
                store.heads(ids).forEach((id, head) -> {
                    Room room = rooms.get(id);
                    if (room != null) {
                        room.checkHead(head);
                    }
                });
            } catch (RuntimeException e) {
                System.getLogger(Rooms.class.getName()).log(System.Logger.Level.DEBUG, "head check failed", e);
            } finally {
                checkingHeads.set(false);
            }
        });
    }

    /** The document's room, created (and loaded lazily) when absent; pinned until {@link #release}. */
    public Room acquire(String documentId) {
        return rooms.compute(documentId, (id, room) -> {
            Room r = room == null ? new Room(id, store, settings, pool, merges, merger, events, bus, nanoClock) : room;
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
                room.unsubscribe();
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

    /**
     * Retention: deletes up to {@code limit} documents whose last change is older than {@code cutoffMillis},
     * skipping those with open connections (someone is reading them). Returns how many were deleted.
     */
    public int deleteUntouchedSince(long cutoffMillis, int limit) {
        int deleted = 0;
        for (String id : store.untouchedSince(cutoffMillis, limit)) {
            Room room = find(id);
            if (room != null && room.stats().connections() > 0) {
                continue;
            }
            if (delete(id).join()) {
                deleted++;
            }
        }
        return deleted;
    }

    /** The room of a document if it is in memory (for admin reads and broadcasts to live rooms). */
    public Room find(String documentId) {
        return rooms.get(documentId);
    }

    public int size() {
        return rooms.size();
    }

    public List<Room.Stats> withConnections() {
        return rooms.values().stream().map(Room::stats).filter(s -> s.connections() > 0).toList();
    }

    @Override
    public void close() {
        merges.shutdownNow();
        pool.shutdown();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
