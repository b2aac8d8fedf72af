package dev.collab.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.room.Peer;
import dev.collab.room.Room;
import dev.collab.room.RoomEvent;
import dev.collab.room.RoomSettings;
import dev.collab.room.Rooms;
import dev.collab.store.sqlite.SqliteStore;
import dev.collab.store.Store;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.YUpdates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated Yjs updates through a real {@link Room} on a real {@link SqliteStore}: an update is stored (one row)
 * and relayed exactly when it validates and is not empty; a refused update changes nothing; the merged document
 * state stays computable however many odd-but-valid updates were accepted; and the room keeps working after.
 */
@Tag("fuzz")
class RoomFuzzTest {
    private static final String DOC = "fuzz-doc";
    private static final double SCALE = Double.parseDouble(System.getProperty("fuzz.scale", "1"));
    private static final int INPUTS = Math.max(1000, (int) (50_000 * SCALE));

    @TempDir
    Path dir;
    private SqliteStore store;
    private ScheduledExecutorService timer;
    private Rooms rooms;

    /** A room member that records the updates relayed to it. */
    private static final class Watcher implements Peer {
        final String id;
        final LinkedBlockingQueue<byte[]> updates = new LinkedBlockingQueue<>();

        Watcher(String id) {
            this.id = id;
        }

        @Override
        public String clientId() {
            return id;
        }

        @Override
        public String protocol() {
            return "fuzz";
        }

        @Override
        public void deliver(RoomEvent event) {
            if (event instanceof RoomEvent.Update u && u.origin() != this) {
                updates.add(u.update());
            }
        }

        @Override
        public void replaced() {
            throw new AssertionError(id + " was replaced by the room");
        }

        @Override
        public void documentDeleted() {
            throw new AssertionError(id + " was told its document was deleted");
        }

        @Override
        public void disconnect(String reason) {
            throw new AssertionError(id + " was disconnected: " + reason);
        }
    }

    @BeforeEach
    void setUp() {
        store = SqliteStore.open(dir.resolve("fuzz.db"), SqliteStore.Synchronous.NORMAL);
        timer = Executors.newSingleThreadScheduledExecutor();
        // no compaction, so every stored update stays one row and can be compared with what was accepted
        rooms = new Rooms(store, RoomSettings.DEFAULTS.withIdleUnload(Duration.ofMinutes(10))
                .withCompaction(Integer.MAX_VALUE, Long.MAX_VALUE),
                timer);
    }

    @AfterEach
    void tearDown() {
        rooms.close();
        timer.shutdownNow();
        store.close();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return dev.collab.testing.Await.result(f);
    }

    @Test
    void onlyValidUpdatesAreStoredAndTheRoomKeepsWorking() throws Exception {
        Room room = rooms.acquire(DOC);
        Watcher writer = new Watcher("writer");
        Watcher reader = new Watcher("reader");
        get(room.join(writer, j -> { }));
        get(room.join(reader, j -> { }));

        Mutator mutator = new Mutator(Seeds.updates());
        List<byte[]> stored = new ArrayList<>();
        long accepted = 0;
        long rejected = 0;
        long empty = 0;
        for (long i = 0; i < INPUTS; i++) {
            byte[] input = mutator.input(4242, i);
            boolean valid;
            try {
                YUpdates.validate(input);
                valid = true;
            } catch (MalformedException e) {
                valid = false;
            }
            boolean roomAccepted;
            try {
                Room.WriteResult result = get(room.submitUpdate(writer, input));
                if (!(result instanceof Room.WriteResult.Committed)) {
                    throw new AssertionError("input #" + i + " " + HexFormat.of().formatHex(input)
                            + " was refused: " + result);
                }
                roomAccepted = true;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof MalformedException)) {
                    throw new AssertionError("input #" + i + " " + HexFormat.of().formatHex(input)
                            + " failed with something other than MalformedException", e.getCause());
                }
                roomAccepted = false;
            }
            assertEquals(valid, roomAccepted, () -> "the room's verdict differs from validate() for "
                    + HexFormat.of().formatHex(input));
            if (!roomAccepted) {
                rejected++;
                continue;
            }
            accepted++;
            if (YUpdates.isEmpty(input)) {
                empty++;                                  // accepted, but nothing to store or relay
            } else {
                stored.add(input);
                byte[] relayed = reader.updates.poll(30, TimeUnit.SECONDS);
                assertArrayEquals(input, relayed, "the reader gets exactly the accepted update, at once");
            }
            if (accepted % 250 == 0) {
                // the room merges everything it stored whenever a client syncs: that must keep working
                YUpdates.validate(get(room.yjsState(null)));
            }
        }
        assertTrue(reader.updates.isEmpty(), "nothing refused was relayed");

        List<Store.StoredUpdate> rows = store.updates(DOC);
        assertEquals(stored.size(), rows.size(), "one row per accepted non-empty update, none for the rest");
        for (int k = 0; k < rows.size(); k++) {
            assertArrayEquals(stored.get(k), rows.get(k).data(), "row " + k);
        }
        byte[] state = get(room.yjsState(null));
        YUpdates.validate(state);
        assertEquals(stored.size(), room.stats().storedUpdates());

        // the room still takes ordinary edits and relays them
        byte[] normal = YTestUpdates.insertText(987_654, "after-fuzz", "still works");
        if (!(get(room.submitUpdate(writer, normal)) instanceof Room.WriteResult.Committed)) {
            throw new AssertionError("a normal update was refused");
        }
        assertArrayEquals(normal, reader.updates.poll(30, TimeUnit.SECONDS));
        assertEquals(stored.size() + 1, store.updates(DOC).size());
        YUpdates.validate(get(room.yjsState(YUpdates.stateVector(state))));

        System.out.printf("fuzz %-28s inputs=%,d accepted=%,d (stored %,d, empty %,d) rejected=%,d%n",
                "Room.submitUpdate+SQLite", INPUTS, accepted, stored.size(), empty, rejected);
        assertTrue(accepted > 0 && rejected > 0, "both outcomes were exercised");
    }
}
