package dev.collab.protocol;

import dev.collab.room.Peer;
import dev.collab.room.Room;
import dev.collab.room.Rooms;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * One peer's membership in one document's room, as every adapter needs it: acquire the room, join it, and on
 * whichever exit path comes first (the connection closing, a refused join, the document closed or deleted under
 * it) leave it and release it, exactly once. {@link #leave} may be called any number of times from any thread;
 * only the first does anything, and a leave before {@link #join} makes the join a no-op.
 */
public final class Membership {
    private final Rooms rooms;
    private final String documentId;
    private final Peer peer;
    private final AtomicBoolean joinStarted = new AtomicBoolean();
    private final AtomicBoolean left = new AtomicBoolean();
    private final AtomicReference<Room> room = new AtomicReference<>();

    public Membership(Rooms rooms, String documentId, Peer peer) {
        this.rooms = rooms;
        this.documentId = documentId;
        this.peer = peer;
    }

    /**
     * Acquires the room and joins it; {@code onJoined} runs inside the room before any later event reaches the
     * peer (see {@link Room#join}). A refusal is a {@link Room.JoinResult.Refused}; the future fails only when the
     * room cannot load or the membership ended first. Either way the room stays acquired until {@link #leave}, which
     * the adapter calls on those paths too. Only one join per membership.
     */
    public CompletableFuture<Room.JoinResult> join(Consumer<Room.Joined> onJoined) {
        if (!joinStarted.compareAndSet(false, true)) {
            throw new IllegalStateException("already joined " + documentId);
        }
        if (left.get()) {
            return CompletableFuture.failedFuture(new IllegalStateException("the membership has ended"));
        }
        Room r = rooms.acquire(documentId);
        room.set(r);
        if (left.get() && room.compareAndSet(r, null)) {
            rooms.release(r);       // left while acquiring: nothing joined, nothing held
            return CompletableFuture.failedFuture(new IllegalStateException("the membership has ended"));
        }
        return r.join(peer, onJoined);
    }

    /** The room while this is a member (from {@link #join} until {@link #leave}); null otherwise. */
    public Room room() {
        return room.get();
    }

    /** Whether {@link #leave} has been called. */
    public boolean hasLeft() {
        return left.get();
    }

    /** Leaves the room and releases it, the first time; returns whether this call did. */
    public boolean leave() {
        left.set(true);
        Room r = room.getAndSet(null);
        if (r == null) {
            return false;
        }
        r.leave(peer);
        rooms.release(r);
        return true;
    }
}
