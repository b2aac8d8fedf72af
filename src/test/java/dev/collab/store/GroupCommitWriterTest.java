package dev.collab.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How the writer cuts its queue into batches: small writes never wait for more than one budget of large ones. */
class GroupCommitWriterTest {
    @TempDir
    Path dir;

    private static final long LARGE = 600 << 10;

    /**
     * Queued behind a stalled write: two large writes of one document, a small one of another, a small one of the
     * first document after its large ones, and a large one of a third. The batches hold large writes up to the budget
     * (the first whatever it weighs), every small write that may go, and keep each document's order.
     */
    @Test
    void aBatchTakesLargeWritesUpToTheBudgetAndKeepsEachKeysOrder() throws Exception {
        AtomicInteger commits = new AtomicInteger();
        Map<String, Integer> batchOf = new ConcurrentHashMap<>();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (GroupCommitWriter writer = new GroupCommitWriter("test-writer",
                DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("w.db")), () -> null, 512,
                nanos -> commits.incrementAndGet())) {
            CompletableFuture<Object> stalled = writer.submit("x", s -> {
                running.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return null;
            });
            running.await();        // its batch is formed: the next writes queue behind it
            List<CompletableFuture<Object>> queued = List.of(
                    writer.submit("a", LARGE, record("a1", commits, batchOf)),
                    writer.submit("a", LARGE, record("a2", commits, batchOf)),
                    writer.submit("b", 10, record("b1", commits, batchOf)),
                    writer.submit("a", 10, record("a3", commits, batchOf)),
                    writer.submit("c", LARGE, record("c1", commits, batchOf)));
            release.countDown();
            stalled.get();
            for (CompletableFuture<Object> f : queued) {
                f.get();
            }
        }
        // batch 1 (after the stalled one): a1 and b1; a2 is over the budget, so a3 waits behind it, and so does c1
        assertEquals(Map.of("a1", 1, "b1", 1, "a2", 2, "a3", 2, "c1", 3), batchOf);
    }

    private static GroupCommitWriter.Work<Object> record(String name, AtomicInteger commits, Map<String, Integer> batchOf) {
        return s -> {
            batchOf.put(name, commits.get());
            return null;
        };
    }
}
