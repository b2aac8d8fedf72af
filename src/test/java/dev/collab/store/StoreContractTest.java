package dev.collab.store;

import dev.collab.store.Store.DocumentHead;
import dev.collab.store.Store.StoredStep;
import dev.collab.store.Store.StoredUpdate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link Store} promises, run against each implementation by a subclass that says how to open one.
 * {@link #open()} opens the subclass's storage (again, after a close: the data must still be there);
 * {@link #openAnother()} a second, independent instance on the same storage, as a second node would.
 */
public abstract class StoreContractTest {
    private final List<Store> opened = new ArrayList<>();

    /** Opens the test's storage (the same storage every time within one test). */
    protected abstract Store openStore();

    /** A second instance on the same storage, writing beside the first; the same instance where there is none. */
    protected Store openAnotherStore(Store first) {
        return first;
    }

    /**
     * What a compaction stores: the caller's merge by default; a store shared by several writers merges the
     * rows it deletes itself (and says how, given the rows in sequence order).
     */
    protected byte[] expectedCompaction(List<byte[]> storedRows, byte[] mergedByCaller) {
        return mergedByCaller;
    }

    protected final Store open() {
        Store store = openStore();
        opened.add(store);
        return store;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(Store::close);
    }

    protected static <T> T await(CompletableFuture<T> f) throws Exception {
        return dev.collab.testing.Await.result(f);
    }

    protected static Throwable failure(CompletableFuture<?> f) {
        return dev.collab.testing.Await.failure(f);
    }

    protected static String step(String name) {
        return "{\"stepType\":\"replace\",\"from\":1,\"to\":1,\"n\":\"" + name + "\"}";
    }

    private static List<Long> seqs(List<StoredUpdate> updates) {
        return updates.stream().map(StoredUpdate::seq).toList();
    }

    private static List<Integer> versions(List<StoredStep> steps) {
        return steps.stream().map(StoredStep::version).toList();
    }

    @Test
    void appendedUpdatesGetConsecutiveSequenceNumbersAndReadBackSinceAWatermark() throws Exception {
        Store store = open();
        assertEquals(1L, await(store.appendUpdate("d", new byte[] {1})));
        assertEquals(2L, await(store.appendUpdate("d", new byte[] {2, 2})));
        assertEquals(3L, await(store.appendUpdate("d", new byte[] {3, 3, 3})));
        assertEquals(1L, await(store.appendUpdate("e", new byte[] {9})), "sequence numbers are per document");

        assertEquals(List.of(1L, 2L, 3L), seqs(store.updates("d")));
        assertArrayEquals(new byte[] {2, 2}, store.updates("d").get(1).data());
        assertEquals(List.of(2L, 3L), seqs(store.updatesAfter("d", 1, 10)));
        assertEquals(List.of(2L), seqs(store.updatesAfter("d", 1, 1)));
        assertEquals(List.of(), store.updatesAfter("d", 3, 10));
        assertEquals(List.of(), store.updates("nothing"));
        assertEquals(new DocumentHead(0, 3, 3, 6, DocumentKind.YJS), store.head("d"));
    }

    @Test
    void headsAreReadForSeveralDocumentsAtOnce() throws Exception {
        Store store = open();
        await(store.appendSteps("a", 0, List.of(step("0"), step("1")), "c"));
        await(store.appendUpdate("b", new byte[] {1, 2, 3, 4}));
        await(store.appendUpdate("b", new byte[] {5}));
        Map<String, DocumentHead> heads = store.heads(List.of("a", "b", "never"));
        assertEquals(new DocumentHead(2, 0, 0, 0, DocumentKind.STEPS), heads.get("a"));
        assertEquals(new DocumentHead(0, 2, 2, 5, DocumentKind.YJS), heads.get("b"));
        assertEquals(DocumentHead.EMPTY, heads.get("never"));
        assertEquals(heads.get("a"), store.head("a"));
    }

    @Test
    void stepsAreReadInVersionOrderWithALimit() throws Exception {
        Store store = open();
        await(store.appendSteps("d", 0, List.of(step("a"), step("b")), "c1"));
        await(store.appendSteps("d", 2, List.of(step("c")), "c2"));
        assertEquals(List.of(0, 1, 2), versions(store.stepsSince("d", 0, 10)));
        assertEquals(List.of(1), versions(store.stepsSince("d", 1, 1)));
        assertEquals("c2", store.stepsSince("d", 2, 10).get(0).clientId());
        assertEquals(step("c"), store.stepsSince("d", 2, 10).get(0).stepJson());
        assertEquals(3, store.head("d").stepVersion());
    }

    @Test
    void aTakenVersionFailsWholeAndLeavesNothingBehind() throws Exception {
        Store store = open();
        await(store.appendSteps("d", 0, List.of(step("a"), step("b")), "c1"));
        Throwable taken = failure(store.appendSteps("d", 1, List.of(step("x"), step("y"), step("z")), "c2"));
        assertInstanceOf(Store.VersionTakenException.class, taken);
        assertEquals(List.of(0, 1), versions(store.stepsSince("d", 0, 10)), "no step of the refused batch stored");
        assertEquals("c1", store.stepsSince("d", 1, 1).get(0).clientId());
        await(store.appendSteps("d", 2, List.of(step("c")), "c2"));
        assertEquals(3, store.head("d").stepVersion());
    }

    @Test
    void contestedStepVersionHasExactlyOneWinner() throws Exception {
        Store first = open();
        Store second = openAnotherStore(first);
        List<CompletableFuture<Void>> attempts = IntStream.range(0, 20).parallel()
                .mapToObj(i -> (i % 2 == 0 ? first : second)
                        .appendSteps("race", 0, List.of(step("w" + i), step("x" + i)), "c" + i))
                .toList();
        int won = 0;
        for (CompletableFuture<Void> f : attempts) {
            try {
                await(f);
                won++;
            } catch (ExecutionException e) {
                assertInstanceOf(Store.VersionTakenException.class, e.getCause());
            }
        }
        assertEquals(1, won);
        List<StoredStep> steps = first.stepsSince("race", 0, 10);
        assertEquals(List.of(0, 1), versions(steps));
        assertEquals(steps.get(0).clientId(), steps.get(1).clientId(), "both steps come from the one winner");
    }

    @Test
    void aFailingWriteDoesNotSinkTheWritesSubmittedWithIt() throws Exception {
        Store store = open();
        await(store.appendSteps("shared", 0, List.of(step("0"), step("1"), step("2")), "seed"));
        List<CompletableFuture<?>> good = new ArrayList<>();
        List<CompletableFuture<Void>> conflicting = new ArrayList<>();
        IntStream.range(0, 60).parallel().forEach(i -> {
            CompletableFuture<?> f = switch (i % 3) {
                case 0 -> store.appendSteps("doc-" + i, 0, List.of(step("a"), step("b")), "c" + i);
                case 1 -> store.appendUpdate("doc-" + i, new byte[] {(byte) i});
                default -> null;
            };
            synchronized (good) {
                if (f == null) {
                    conflicting.add(store.appendSteps("shared", 1, List.of(step("late" + i)), "loser"));
                } else {
                    good.add(f);
                }
            }
        });
        for (CompletableFuture<?> f : good) {
            await(f);
        }
        for (CompletableFuture<Void> f : conflicting) {
            assertInstanceOf(Store.VersionTakenException.class, failure(f));
        }
        for (int i = 0; i < 60; i++) {
            switch (i % 3) {
                case 0 -> assertEquals(2, store.head("doc-" + i).stepVersion(), "doc-" + i);
                case 1 -> assertEquals(1, store.updates("doc-" + i).size(), "doc-" + i);
                default -> { }
            }
        }
        assertEquals(List.of(0, 1, 2), versions(store.stepsSince("shared", 0, 10)));
    }

    @Test
    void compactionReplacesThePrefixAndKeepsAppendsRacingIt() throws Exception {
        Store store = open();
        for (int i = 1; i <= 5; i++) {
            await(store.appendUpdate("d", new byte[] {(byte) i}));
        }
        await(store.compact("d", 3, new byte[] {10, 20, 30}));
        List<StoredUpdate> updates = store.updates("d");
        assertEquals(List.of(3L, 4L, 5L), seqs(updates));
        byte[] firstMerge = expectedCompaction(List.of(new byte[] {1}, new byte[] {2}, new byte[] {3}),
                new byte[] {10, 20, 30});
        assertArrayEquals(firstMerge, updates.get(0).data());
        assertArrayEquals(new byte[] {4}, updates.get(1).data());
        assertEquals(new DocumentHead(0, 5, 3, 5, DocumentKind.YJS), store.head("d"));

        // appends submitted together with a compaction survive it and keep counting from the head
        List<CompletableFuture<Long>> appends = new ArrayList<>();
        CompletableFuture<Void> racing = null;
        for (int i = 0; i < 20; i++) {
            appends.add(store.appendUpdate("d", new byte[] {(byte) (100 + i)}));
            if (i == 0) {
                racing = store.compact("d", 5, new byte[] {99});
            }
        }
        await(racing);
        Set<Long> assigned = new HashSet<>();
        for (CompletableFuture<Long> f : appends) {
            assigned.add(await(f));
        }
        assertEquals(LongStream.rangeClosed(6, 25).boxed().collect(java.util.stream.Collectors.toSet()), assigned);
        await(store.compact("d", 5, new byte[] {99}));     // compacting the same prefix again is harmless
        List<StoredUpdate> after = store.updates("d");
        assertEquals(5L, after.get(0).seq());
        assertArrayEquals(expectedCompaction(List.of(firstMerge, new byte[] {4}, new byte[] {5}), new byte[] {99}),
                after.get(0).data());
        assertEquals(LongStream.rangeClosed(5, 25).boxed().toList(), seqs(after));
        assertEquals(25, store.head("d").lastUpdateSeq());
        assertEquals(26L, await(store.appendUpdate("d", new byte[] {1})));
    }

    /**
     * A compacted state of several MiB (a store may keep it in pieces) reads back whole as one row at the seq it
     * covers, before the rows after it; it counts as one row in the head and the metadata; appends go on after a
     * compaction that covered every row; it survives a reopen and goes with the document.
     */
    @Test
    void aLargeCompactedStateReadsBackWholeBeforeTheRowsAfterIt() throws Exception {
        Store store = open();
        java.util.Random random = new java.util.Random(12);
        List<byte[]> rows = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] row = new byte[(1 << 20) + 4099 * i];
            random.nextBytes(row);
            rows.add(row);
            await(store.appendUpdate("big", row));
        }
        await(store.compact("big", 3, joined(rows)));
        byte[] state = expectedCompaction(rows, joined(rows));
        assertEquals(4L, await(store.appendUpdate("big", new byte[] {7})), "numbering goes on after the state");

        List<StoredUpdate> all = store.updates("big");
        assertEquals(List.of(3L, 4L), seqs(all));
        assertArrayEquals(state, all.get(0).data());
        assertArrayEquals(new byte[] {7}, all.get(1).data());
        assertEquals(List.of(3L), seqs(store.updatesAfter("big", 0, 1)), "the state is one row of the limit");
        assertEquals(List.of(4L), seqs(store.updatesAfter("big", 3, 10)));
        assertEquals(new DocumentHead(0, 4, 2, state.length + 1, DocumentKind.YJS), store.head("big"));
        Store.DocumentInfo info = store.document("big").orElseThrow();
        assertEquals(2, info.updateCount());
        assertEquals(state.length + 1, info.bytes());

        // a compaction over the state replaces it
        List<byte[]> second = List.of(state, new byte[] {7});
        await(store.compact("big", 4, joined(second)));
        byte[] replaced = expectedCompaction(second, joined(second));
        store.close();
        Store reopened = open();
        List<StoredUpdate> after = reopened.updates("big");
        assertEquals(List.of(4L), seqs(after));
        assertArrayEquals(replaced, after.get(0).data());
        assertEquals(new DocumentHead(0, 4, 1, replaced.length, DocumentKind.YJS), reopened.head("big"));
        assertEquals(5L, await(reopened.appendUpdate("big", new byte[] {8})));

        assertTrue(await(reopened.delete("big")));
        assertEquals(List.of(), reopened.updates("big"));
        assertEquals(DocumentHead.EMPTY, reopened.head("big"));
        assertEquals(1L, await(reopened.appendUpdate("big", new byte[] {1})), "a new document of that id");
        assertEquals(List.of(1L), seqs(reopened.updates("big")));
    }

    protected static byte[] joined(List<byte[]> parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    @Test
    void concurrentAppendersGetDenseSequenceNumbersInCommitOrder() throws Exception {
        Store first = open();
        Store second = openAnotherStore(first);
        int perWriter = 200;
        List<CompletableFuture<Long>> appends = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Store target = w % 2 == 0 ? first : second;
            int writer = w;
            writers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perWriter; i++) {
                    CompletableFuture<Long> f = target.appendUpdate("hot", new byte[] {(byte) writer, (byte) i});
                    synchronized (appends) {
                        appends.add(f);
                    }
                }
            }));
        }
        // a reader following the watermark while the writers run never skips a committed update
        List<Long> followed = new ArrayList<>();
        long watermark = 0;
        int total = 4 * perWriter;
        while (followed.size() < total) {
            for (StoredUpdate u : second.updatesAfter("hot", watermark, 50)) {
                followed.add(u.seq());
                watermark = u.seq();
            }
            Thread.onSpinWait();
        }
        for (Thread t : writers) {
            t.join();
        }
        Set<Long> assigned = new HashSet<>();
        for (CompletableFuture<Long> f : appends) {
            assertTrue(assigned.add(await(f)), "no sequence number given twice");
        }
        List<Long> dense = LongStream.rangeClosed(1, total).boxed().toList();
        assertEquals(Set.copyOf(dense), assigned);
        assertEquals(dense, followed, "the reader saw every update, in order");
        assertEquals(dense, seqs(first.updates("hot")));
    }

    @Test
    void whatWasCommittedIsThereAfterReopening() throws Exception {
        Store store = open();
        List<CompletableFuture<?>> queued = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            queued.add(store.appendUpdate("d", new byte[] {(byte) i}));
            queued.add(store.appendSteps("s", i, List.of(step("s" + i)), "c"));
        }
        store.close();
        for (CompletableFuture<?> f : queued) {
            assertTrue(f.isDone(), "close returns only after the queued writes are done");
            f.get();
        }
        assertInstanceOf(Store.StoreException.class, failure(store.appendUpdate("d", new byte[] {1})),
                "a closed store refuses writes");
        assertFalse(store.isHealthy());

        Store reopened = open();
        assertTrue(reopened.isHealthy());
        assertEquals(new DocumentHead(0, 100, 100, 100, DocumentKind.YJS), reopened.head("d"));
        assertEquals(new DocumentHead(100, 0, 0, 0, DocumentKind.STEPS), reopened.head("s"));
        assertEquals(100, reopened.stepsSince("s", 0, 1000).size());
        assertEquals(101L, await(reopened.appendUpdate("d", new byte[] {1})));
    }

    @Test
    void theFirstWriteFixesTheKindAndTheOtherKindIsRefusedAndNotStored() throws Exception {
        Store store = open();
        await(store.appendUpdate("y", new byte[] {1}));
        Throwable steps = failure(store.appendSteps("y", 0, List.of(step("a")), "c"));
        assertEquals(DocumentKind.YJS, assertInstanceOf(Store.DocumentKindException.class, steps).kind());
        assertEquals(List.of(), store.stepsSince("y", 0, 10));

        await(store.appendSteps("s", 0, List.of(step("a")), "c"));
        Throwable update = failure(store.appendUpdate("s", new byte[] {1}));
        assertEquals(DocumentKind.STEPS, assertInstanceOf(Store.DocumentKindException.class, update).kind());
        assertEquals(List.of(), store.updates("s"));

        // refused inside a group commit too: the batch's other writes are kept
        List<CompletableFuture<?>> batch = List.of(store.appendUpdate("y", new byte[] {2}),
                store.appendSteps("y", 0, List.of(step("b")), "c"), store.appendSteps("s", 1, List.of(step("b")), "c"));
        await(batch.get(0));
        assertInstanceOf(Store.DocumentKindException.class, failure(batch.get(1)));
        await(batch.get(2));
        assertEquals(new DocumentHead(0, 2, 2, 2, DocumentKind.YJS), store.head("y"));
        assertEquals(new DocumentHead(2, 0, 0, 0, DocumentKind.STEPS), store.head("s"));
        assertEquals("steps", store.document("s").orElseThrow().kind());
        assertEquals(DocumentHead.EMPTY, store.head("never"));

        // a deleted document's id is free for either kind
        await(store.delete("s"));
        await(store.appendUpdate("s", new byte[] {3}));
        assertEquals(DocumentKind.YJS, store.head("s").kind());
    }

    // ---- the document API's methods: metadata, listing, snapshots, deletion, retention ----

    @Test
    void metadataCountsTheHistoryAndTracksTheLastChange() throws Exception {
        Store store = open();
        assertTrue(store.document("d").isEmpty());
        await(store.appendUpdate("d", new byte[] {1, 2, 3}));
        Store.DocumentInfo first = store.document("d").orElseThrow();
        assertEquals(1, first.updateCount());
        assertEquals(3, first.bytes());
        assertEquals("yjs", first.kind());
        assertEquals(first.createdAt(), first.updatedAt());
        long before = first.updatedAt();
        while (System.currentTimeMillis() <= before) {
            Thread.onSpinWait();          // the next change must fall in a later millisecond
        }
        await(store.appendUpdate("d", new byte[] {4}));
        Store.DocumentInfo second = store.document("d").orElseThrow();
        assertEquals(first.createdAt(), second.createdAt());
        assertTrue(second.updatedAt() > before);
        assertEquals(4, second.bytes());

        await(store.appendSteps("s", 0, List.of(step("a")), "c"));
        Store.DocumentInfo steps = store.document("s").orElseThrow();
        assertEquals(1, steps.stepVersion());
        assertEquals(step("a").length(), steps.bytes());
    }

    @Test
    void listingIsInIdOrderFromACursorWithinAPrefix() throws Exception {
        Store store = open();
        for (String id : List.of("b/2", "a", "b/1", "b", "c")) {
            await(store.appendUpdate(id, new byte[] {1}));
        }
        assertEquals(List.of("a", "b", "b/1", "b/2", "c"), ids(store.documents("", null, 10)));
        assertEquals(List.of("b", "b/1"), ids(store.documents("b", null, 2)));
        assertEquals(List.of("b/2"), ids(store.documents("b", "b/1", 2)));
        assertEquals(List.of("b/1", "b/2"), ids(store.documents("b/", "a", 5)));
        assertEquals(List.of(), ids(store.documents("z", null, 5)));
    }

    @Test
    void theNewestSnapshotWins() throws Exception {
        Store store = open();
        await(store.appendSteps("s", 0, List.of(step("a"), step("b")), "c"));
        assertTrue(store.snapshot("s").isEmpty());
        await(store.saveSnapshot("s", 2, "{\"type\":\"doc\",\"v\":2}"));
        await(store.saveSnapshot("s", 1, "{\"type\":\"doc\",\"v\":1}"));
        assertEquals(new Store.StoredSnapshot(2, "{\"type\":\"doc\",\"v\":2}"), store.snapshot("s").orElseThrow());
    }

    @Test
    void deleteRemovesEverythingOfOneDocumentOnly() throws Exception {
        Store store = open();
        await(store.appendSteps("s", 0, List.of(step("a")), "c"));
        await(store.saveSnapshot("s", 1, "{\"type\":\"doc\"}"));
        await(store.appendUpdate("keep", new byte[] {1}));

        assertTrue(await(store.delete("s")));
        assertFalse(await(store.delete("s")), "a second delete finds nothing");
        assertTrue(store.document("s").isEmpty());
        assertTrue(store.snapshot("s").isEmpty());
        assertEquals(List.of(), store.stepsSince("s", 0, 10));
        assertEquals(DocumentHead.EMPTY, store.head("s"));
        assertTrue(store.document("keep").isPresent());
    }

    @Test
    void documentsUntouchedSinceACutoffAreFoundOldestFirst() throws Exception {
        Store store = open();
        await(store.appendUpdate("old", new byte[] {1}));
        long cutoff = store.document("old").orElseThrow().updatedAt() + 1;
        while (System.currentTimeMillis() < cutoff) {
            Thread.onSpinWait();
        }
        await(store.appendUpdate("fresh", new byte[] {1}));
        assertEquals(List.of("old"), store.untouchedSince(cutoff, 10));
        assertEquals(List.of(), store.untouchedSince(cutoff, 0));
    }

    private static List<String> ids(List<Store.DocumentInfo> docs) {
        return docs.stream().map(Store.DocumentInfo::documentId).toList();
    }
}
