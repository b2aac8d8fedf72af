package dev.collab.store;

import dev.collab.store.Store.DocumentHead;
import dev.collab.store.Store.StoredStep;
import dev.collab.store.Store.StoredUpdate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SqliteStoreTest {
    @TempDir
    Path dir;

    private final List<SqliteStore> opened = new ArrayList<>();

    @AfterEach
    void closeStores() {
        opened.forEach(SqliteStore::close);
    }

    private SqliteStore open() {
        SqliteStore store = SqliteStore.open(dir.resolve("collab.db"), SqliteStore.Synchronous.NORMAL);
        opened.add(store);
        return store;
    }

    private Connection jdbc() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("collab.db").toAbsolutePath());
    }

    private static <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    private static List<Integer> versions(List<StoredStep> steps) {
        return steps.stream().map(StoredStep::version).toList();
    }

    private static String step(String name) {
        return "{\"stepType\":\"replace\",\"from\":1,\"to\":1,\"n\":\"" + name + "\"}";
    }

    private record Row(int version, String name, long appliedAt) {
    }

    private List<Row> schemaVersions() throws SQLException {
        try (Connection c = jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version, name, applied_at FROM schema_version ORDER BY version")) {
            List<Row> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new Row(rs.getInt(1), rs.getString(2), rs.getLong(3)));
            }
            return out;
        }
    }

    private static boolean tableExists(Connection c, String table) throws SQLException {
        try (var ps = c.prepareStatement("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    // ---- migrations ---------------------------------------------------------------------------------------

    @Test
    void migrationsAreAppliedOnceAndRecorded() throws Exception {
        SqliteStore store = open();
        store.close();
        List<Row> first = schemaVersions();
        List<Migrations.Migration> shipped = Migrations.fromClasspath();
        assertFalse(shipped.isEmpty(), "migrations ship on the classpath");
        assertEquals(1, shipped.get(0).version());
        assertEquals(shipped.size(), first.size(), "every shipped migration is recorded");
        assertEquals(1, first.get(0).version());
        assertEquals("init", first.get(0).name());
        try (Connection c = jdbc()) {
            for (String table : List.of("documents", "yjs_updates", "pm_steps")) {
                assertTrue(tableExists(c, table), table + " exists");
            }
        }

        // re-opening is a no-op: nothing re-applied, the record is untouched, data survives
        SqliteStore again = open();
        await(again.appendSteps("d", 0, List.of(step("a")), "c1"));
        again.close();
        SqliteStore third = open();
        assertEquals(first, schemaVersions());
        assertEquals(1, third.head("d").stepVersion());
        try (Connection c = jdbc()) {
            assertEquals(0, Migrations.apply(c, Migrations.fromClasspath()), "re-running applies nothing");
        }
        assertEquals(first, schemaVersions());
    }

    @Test
    void onlyNewerMigrationsRunAndAFailingOneLeavesNoTrace() throws Exception {
        open().close();
        List<Migrations.Migration> shipped = new ArrayList<>(Migrations.fromClasspath());
        int next = shipped.get(shipped.size() - 1).version() + 1;
        try (Connection c = jdbc()) {
            List<Migrations.Migration> withBroken = new ArrayList<>(shipped);
            withBroken.add(new Migrations.Migration(next, "broken",
                    "CREATE TABLE half_done (x INTEGER);\n-- the next statement fails\nSELECT * FROM no_such_table;"));
            assertThrows(SQLException.class, () -> Migrations.apply(c, withBroken));
            assertFalse(tableExists(c, "half_done"), "a failed migration is rolled back");
            assertTrue(c.getAutoCommit(), "auto-commit restored after a failure");

            List<Migrations.Migration> withNew = new ArrayList<>(shipped);
            withNew.add(new Migrations.Migration(next, "extra",
                    "CREATE TABLE extra (x INTEGER); -- trailing comment\nINSERT INTO extra VALUES (42);"));
            assertEquals(1, Migrations.apply(c, withNew));
            assertTrue(tableExists(c, "extra"));
            assertEquals(0, Migrations.apply(c, withNew));
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM extra")) {
                rs.next();
                assertEquals(1, rs.getInt(1), "the migration ran exactly once");
            }
        }
        List<Row> rows = schemaVersions();
        assertEquals(next, rows.get(rows.size() - 1).version());
        assertEquals("extra", rows.get(rows.size() - 1).name());
    }

    @Test
    void splitStatementsDropsCommentsAndBlankParts() {
        assertEquals(List.of("CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y TEXT)"),
                Migrations.splitStatements("-- header; with a semicolon\nCREATE TABLE a (x INTEGER); -- c\n\n"
                        + "CREATE TABLE b (y TEXT);\n;\n"));
    }

    // ---- journal mode -------------------------------------------------------------------------------------

    @Test
    void walModeIsOnAndReadersDoNotBlockTheWriter() throws Exception {
        SqliteStore store = open();
        await(store.appendSteps("d", 0, List.of(step("a")), "c"));
        try (Connection c = jdbc()) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
                rs.next();
                assertEquals("wal", rs.getString(1).toLowerCase());
            }
            // an open read transaction (holding a snapshot) must not stop commits under WAL
            c.setAutoCommit(false);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM pm_steps")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
            await(store.appendSteps("d", 1, List.of(step("b")), "c"));
            assertEquals(2, store.head("d").stepVersion(), "the store's readers see the new commit");
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM pm_steps")) {
                rs.next();
                assertEquals(1, rs.getInt(1), "the open reader keeps its snapshot");
            }
            c.rollback();
        }
        assertTrue(store.isHealthy());
    }

    // ---- steps --------------------------------------------------------------------------------------------

    @Test
    void stepsSinceReturnsStepsInVersionOrderWithLimit() throws Exception {
        SqliteStore store = open();
        assertEquals(List.of(), store.stepsSince("d", 0, 100));
        await(store.appendSteps("d", 0, List.of(step("0"), step("1"), step("2")), "alice"));
        await(store.appendSteps("d", 3, List.of(step("3"), step("4")), "bob"));
        await(store.appendSteps("other", 0, List.of(step("x")), "carol"));

        List<StoredStep> all = store.stepsSince("d", 0, 100);
        assertEquals(List.of(0, 1, 2, 3, 4), versions(all));
        assertEquals(step("0"), all.get(0).stepJson());
        assertEquals(step("4"), all.get(4).stepJson());
        assertEquals(List.of("alice", "alice", "alice", "bob", "bob"),
                all.stream().map(StoredStep::clientId).toList());

        assertEquals(List.of(2, 3), versions(store.stepsSince("d", 2, 2)));
        assertEquals(List.of(4), versions(store.stepsSince("d", 4, 10)));
        assertEquals(List.of(), store.stepsSince("d", 5, 10));
        assertEquals(List.of(0), versions(store.stepsSince("other", 0, 10)));
        assertEquals(5, store.head("d").stepVersion());
        assertEquals(1, store.head("other").stepVersion());
        assertEquals(DocumentHead.EMPTY, store.head("never-written"));
    }

    @Test
    void aTakenVersionFailsWholeAndLeavesNothingBehind() throws Exception {
        SqliteStore store = open();
        await(store.appendSteps("d", 0, List.of(step("0"), step("1"), step("2")), "alice"));
        await(store.appendSteps("d", 5, List.of(step("5")), "alice"));

        // versions 3 and 4 are free, 5 is taken: the rows already inserted for 3 and 4 must be rolled back
        Throwable e = failure(store.appendSteps("d", 3, List.of(step("p"), step("q"), step("r")), "bob"));
        assertInstanceOf(Store.VersionTakenException.class, e, () -> "got " + e);
        assertEquals(List.of(0, 1, 2, 5), versions(store.stepsSince("d", 0, 100)));

        Throwable first = failure(store.appendSteps("d", 0, List.of(step("again")), "bob"));
        assertInstanceOf(Store.VersionTakenException.class, first);
        assertEquals(step("0"), store.stepsSince("d", 0, 1).get(0).stepJson(), "the stored step is not overwritten");

        // the store is still usable and the free versions still free
        await(store.appendSteps("d", 3, List.of(step("3"), step("4")), "carol"));
        List<StoredStep> all = store.stepsSince("d", 0, 100);
        assertEquals(List.of(0, 1, 2, 3, 4, 5), versions(all));
        assertEquals("carol", all.get(3).clientId());
    }

    @Test
    void aConflictInAGroupCommitDoesNotSinkTheOtherWritesOfTheBatch() throws Exception {
        LongAdder commits = new LongAdder();
        SqliteStore store = SqliteStore.open(dir.resolve("collab.db"), SqliteStore.Synchronous.NORMAL, 2,
                nanos -> commits.increment());
        opened.add(store);
        await(store.appendSteps("shared", 0, List.of(step("0"), step("1"), step("2")), "seed"));
        await(store.appendSteps("shared", 5, List.of(step("5")), "seed"));
        commits.reset();

        List<CompletableFuture<Void>> good = new ArrayList<>();
        CompletableFuture<Void> conflicting;
        CompletableFuture<Void> sameVersionAfterRollback;
        // hold SQLite's write lock so the writer stalls on its first write while everything else queues up;
        // on release the queued writes are committed together
        try (Connection lock = jdbc(); Statement st = lock.createStatement()) {
            st.execute("BEGIN IMMEDIATE");
            good.add(store.appendUpdate("blocker", 1, new byte[] {1}));
            conflicting = store.appendSteps("shared", 3, List.of(step("p"), step("q"), step("r")), "loser");
            sameVersionAfterRollback = store.appendSteps("shared", 3, List.of(step("3")), "winner");
            List<CompletableFuture<Void>> concurrent = IntStream.range(0, 100).parallel()
                    .mapToObj(i -> i % 2 == 0
                            ? store.appendSteps("doc-" + i, 0, List.of(step("a"), step("b")), "c" + i)
                            : store.appendUpdate("doc-" + i, 1, new byte[] {(byte) i}))
                    .toList();
            good.addAll(concurrent);
            assertFalse(conflicting.isDone(), "nothing commits while the lock is held");
            st.execute("COMMIT");
        }

        assertInstanceOf(Store.VersionTakenException.class, failure(conflicting));
        await(sameVersionAfterRollback);
        for (CompletableFuture<Void> f : good) {
            await(f);
        }
        assertTrue(commits.sum() <= 2, "103 writes queued behind a lock take at most two commits, took "
                + commits.sum());

        List<StoredStep> shared = store.stepsSince("shared", 0, 100);
        assertEquals(List.of(0, 1, 2, 3, 5), versions(shared));
        assertEquals("winner", shared.get(3).clientId());
        for (int i = 0; i < 100; i++) {
            if (i % 2 == 0) {
                assertEquals(2, store.head("doc-" + i).stepVersion(), "doc-" + i);
            } else {
                assertEquals(1, store.updates("doc-" + i).size(), "doc-" + i);
            }
        }
    }

    @Test
    void concurrentSubmittersAtOneVersionGetExactlyOneWinner() throws Exception {
        SqliteStore store = open();
        List<CompletableFuture<Void>> attempts = IntStream.range(0, 20).parallel()
                .mapToObj(i -> store.appendSteps("race", 0, List.of(step("w" + i), step("x" + i)), "c" + i))
                .toList();
        int won = 0;
        for (CompletableFuture<Void> f : attempts) {
            try {
                f.get(10, TimeUnit.SECONDS);
                won++;
            } catch (ExecutionException e) {
                assertInstanceOf(Store.VersionTakenException.class, e.getCause());
            }
        }
        assertEquals(1, won);
        List<StoredStep> steps = store.stepsSince("race", 0, 10);
        assertEquals(List.of(0, 1), versions(steps));
        assertEquals(steps.get(0).clientId(), steps.get(1).clientId(), "both steps come from the one winner");
    }

    // ---- updates ------------------------------------------------------------------------------------------

    @Test
    void updatesAreReturnedInSequenceOrderAndCountedInHead() throws Exception {
        SqliteStore store = open();
        await(store.appendUpdate("d", 2, new byte[] {2, 2}));
        await(store.appendUpdate("d", 1, new byte[] {1}));
        await(store.appendUpdate("d", 3, new byte[] {3, 3, 3}));
        await(store.appendUpdate("e", 1, new byte[] {9}));
        List<StoredUpdate> updates = store.updates("d");
        assertEquals(List.of(1L, 2L, 3L), updates.stream().map(StoredUpdate::seq).toList());
        assertArrayEquals(new byte[] {2, 2}, updates.get(1).data());
        assertEquals(new DocumentHead(0, 3, 3, 6), store.head("d"));
        assertInstanceOf(Store.StoreException.class, failure(store.appendUpdate("d", 2, new byte[] {7})),
                "a taken sequence number is refused");
        assertArrayEquals(new byte[] {2, 2}, store.updates("d").get(1).data());
        assertEquals(List.of(), store.updates("nothing"));
    }

    @Test
    void compactionReplacesThePrefixAndKeepsLaterUpdates() throws Exception {
        SqliteStore store = open();
        for (int seq = 1; seq <= 5; seq++) {
            await(store.appendUpdate("d", seq, new byte[] {(byte) seq}));
        }
        await(store.compact("d", 3, new byte[] {10, 20, 30}));
        List<StoredUpdate> updates = store.updates("d");
        assertEquals(List.of(3L, 4L, 5L), updates.stream().map(StoredUpdate::seq).toList());
        assertArrayEquals(new byte[] {10, 20, 30}, updates.get(0).data());
        assertArrayEquals(new byte[] {4}, updates.get(1).data());
        assertArrayEquals(new byte[] {5}, updates.get(2).data());
        assertEquals(new DocumentHead(0, 5, 3, 5), store.head("d"));

        // an append queued together with the compaction survives it
        CompletableFuture<Void> append = store.appendUpdate("d", 6, new byte[] {6});
        CompletableFuture<Void> compact = store.compact("d", 5, new byte[] {99});
        await(append);
        await(compact);
        assertEquals(List.of(5L, 6L), store.updates("d").stream().map(StoredUpdate::seq).toList());
        assertArrayEquals(new byte[] {99}, store.updates("d").get(0).data());
        assertEquals(6, store.head("d").lastUpdateSeq());
    }

    @Test
    void headCombinesStepsAndUpdates() throws Exception {
        SqliteStore store = open();
        await(store.appendSteps("d", 0, List.of(step("0"), step("1")), "c"));
        await(store.appendUpdate("d", 1, new byte[] {1, 2, 3, 4}));
        await(store.appendUpdate("d", 2, new byte[] {5}));
        DocumentHead head = store.head("d");
        assertEquals(2, head.stepVersion());
        assertEquals(2, head.lastUpdateSeq());
        assertEquals(2, head.updateCount());
        assertEquals(5, head.updateBytes());
    }

    // ---- closing ------------------------------------------------------------------------------------------

    @Test
    void closeFinishesQueuedWritesAndRefusesLaterOnes() throws Exception {
        SqliteStore store = open();
        List<CompletableFuture<Void>> queued = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            queued.add(store.appendUpdate("d", i + 1, new byte[] {(byte) i}));
            queued.add(store.appendSteps("d", i, List.of(step("s" + i)), "c"));
        }
        store.close();
        for (CompletableFuture<Void> f : queued) {
            assertTrue(f.isDone(), "close returns only after the queue is drained");
            f.get();   // and every queued write succeeded
        }
        assertInstanceOf(Store.StoreException.class, failure(store.appendUpdate("d", 1000, new byte[] {1})));
        assertFalse(store.isHealthy());

        SqliteStore reopened = open();
        assertEquals(new DocumentHead(300, 300, 300, 300), reopened.head("d"));
        assertEquals(300, reopened.stepsSince("d", 0, 1000).size());
    }
}
