package dev.collab.room;

import dev.collab.store.MemoryStore;
import dev.collab.testing.Await;
import dev.collab.testing.ManualTimer;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * When a room nobody holds leaves memory, on virtual time: exactly after the idle delay, never while a connection
 * holds it, and never with a store write in flight (it waits for the write). The rooms' owners still run on real
 * threads; only the timer and its clock are the test's.
 */
class RoomsUnloadTest {
    private static final Duration IDLE = Duration.ofSeconds(30);

    private final ManualTimer timer = new ManualTimer();
    private final ControllableStore store = new ControllableStore(new MemoryStore());
    private final Rooms rooms = new Rooms(store, RoomSettings.DEFAULTS.withIdleUnload(IDLE), timer,
            DocumentEvents.NONE, Bus.NONE, updates -> YUpdates.merge(updates, true), timer::nanoTime);

    @AfterEach
    void tearDown() {
        store.release();
        rooms.close();
    }

    @Test
    void aRoomNobodyHoldsIsDroppedOnceTheIdleDelayHasPassedAndNotBefore() {
        Room room = rooms.acquire("doc");
        rooms.release(room);

        timer.advance(IDLE.minusMillis(1));
        assertSame(room, rooms.find("doc"), "still idle for less than the delay");
        timer.advance(Duration.ofMillis(1));
        assertNull(rooms.find("doc"));
        assertNotSame(room, rooms.acquire("doc"), "the next connection gets a fresh room, loaded from the store");
    }

    @Test
    void aRoomHeldByAnotherConnectionStaysUntilTheLastOneLeaves() {
        Room room = rooms.acquire("doc");
        rooms.acquire("doc");
        rooms.release(room);
        timer.advance(IDLE.multipliedBy(3));
        assertSame(room, rooms.find("doc"));

        rooms.release(room);
        timer.advance(IDLE);
        assertNull(rooms.find("doc"));
    }

    @Test
    void aRoomAcquiredAgainWithinTheDelayIsKeptAndItsOldUnloadDoesNothing() {
        Room room = rooms.acquire("doc");
        rooms.release(room);
        timer.advance(IDLE.dividedBy(2));
        assertSame(room, rooms.acquire("doc"));
        timer.advance(IDLE);                        // the first release's unload runs now: held again, so kept
        assertSame(room, rooms.find("doc"));
        rooms.release(room);
        timer.advance(IDLE.minusMillis(1));
        assertSame(room, rooms.find("doc"), "the delay counts from the last release");
        timer.advance(Duration.ofMillis(1));
        assertNull(rooms.find("doc"));
    }

    @Test
    void aRoomWithAWriteInFlightWaitsForTheWriteBeforeItIsDropped() throws Exception {
        Room room = rooms.acquire("doc");
        store.hold();
        CompletableFuture<Room.WriteResult> write = room.submitUpdate(YTestUpdates.insertText(7, "t", "kept"), "api");
        Await.until("the write to reach the store", () -> room.inFlight.get() == 1);
        rooms.release(room);

        timer.advance(IDLE.multipliedBy(2));        // the unload looks again every tenth of the delay meanwhile
        assertSame(room, rooms.find("doc"), "a room is not dropped with a write in flight");

        store.release();
        assertInstanceOf(Room.WriteResult.Committed.class, Await.result(write));
        Await.until("the write to complete", () -> room.inFlight.get() == 0);
        timer.advance(IDLE.dividedBy(10));
        assertNull(rooms.find("doc"));
    }
}
