package dev.collab.room;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** A fake connection that records every event the room hands it, and how it was closed. */
final class RecordingPeer implements Peer {
    /** How the room closed this peer. */
    record Closed(int code, String reason) {
    }

    private final String clientId;
    private final boolean replacedBySameClientId;
    private final boolean canWrite;
    private final LinkedBlockingQueue<RoomEvent> events = new LinkedBlockingQueue<>();
    final CompletableFuture<Closed> closed = new CompletableFuture<>();

    RecordingPeer(String clientId) {
        this(clientId, true, true);
    }

    RecordingPeer(String clientId, boolean replacedBySameClientId, boolean canWrite) {
        this.clientId = clientId;
        this.replacedBySameClientId = replacedBySameClientId;
        this.canWrite = canWrite;
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public String protocol() {
        return "test";
    }

    @Override
    public void deliver(RoomEvent event) {
        events.add(event);
    }

    /** Recorded as the JSON adapter answers it (the room says "replaced", the adapter picks the code). */
    @Override
    public void replaced() {
        closed.complete(new Closed(4001, "replaced by a newer connection with the same clientID"));
    }

    /** Recorded as a close with code 0 (the room knows no close codes). */
    @Override
    public void documentDeleted() {
        closed.complete(new Closed(0, "document deleted"));
    }

    @Override
    public void disconnect(String reason) {
        closed.complete(new Closed(-1, reason));
    }

    @Override
    public boolean replacedBySameClientId() {
        return replacedBySameClientId;
    }

    @Override
    public boolean canWrite() {
        return canWrite;
    }

    /** The next event, which must arrive within 5 s and be of {@code type}. */
    <T extends RoomEvent> T next(Class<T> type) throws InterruptedException {
        RoomEvent e = events.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, () -> clientId + ": no " + type.getSimpleName() + " event within 5 s");
        return assertInstanceOf(type, e, () -> clientId + ": expected " + type.getSimpleName() + ", got " + e);
    }

    /** Everything delivered so far and not yet taken. */
    List<RoomEvent> drain() {
        List<RoomEvent> out = new ArrayList<>();
        events.drainTo(out);
        return out;
    }

    void assertNothingPending() {
        assertEquals(List.of(), drain(), clientId + " received unexpected events");
    }

    @Override
    public String toString() {
        return "peer " + clientId;
    }
}
