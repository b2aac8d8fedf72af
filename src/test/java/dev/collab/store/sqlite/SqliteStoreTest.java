package dev.collab.store.sqlite;

import dev.collab.store.DocumentKind;
import dev.collab.store.Migrations;
import dev.collab.store.Store;
import dev.collab.store.Store.StoredStep;
import dev.collab.store.StoreContractTest;
import org.flywaydb.core.api.FlywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store contract against SQLite, plus what is SQLite's own: WAL, group commit behind a lock, migrations. */
class SqliteStoreTest extends StoreContractTest {
    @TempDir
    Path dir;

    private final List<Store> extra = new ArrayList<>();

    @Override
    protected Store openStore() {
        return SqliteStore.open(dir.resolve("collab.db"), SqliteStore.Synchronous.NORMAL);
    }

    @Override
    protected Store openAnotherStore(Store first) {
        return track(SqliteStore.open(dir.resolve("collab.db"), SqliteStore.Synchronous.NORMAL));
    }

    private Store track(Store store) {
        extra.add(store);
        return store;
    }

    @org.junit.jupiter.api.AfterEach
    void closeExtra() {
        extra.forEach(Store::close);
    }

    private String url() {
        return "jdbc:sqlite:" + dir.resolve("collab.db").toAbsolutePath();
    }

    private Connection jdbc() throws SQLException {
        return DriverManager.getConnection(url());
    }

    private static List<Integer> versions(List<StoredStep> steps) {
        return steps.stream().map(StoredStep::version).toList();
    }

    private record Row(String version, String description, boolean success) {
    }

    private List<Row> history() throws SQLException {
        try (Connection c = jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version, description, success FROM flyway_schema_history"
                     + " WHERE version IS NOT NULL ORDER BY installed_rank")) {
            List<Row> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new Row(rs.getString(1), rs.getString(2), rs.getBoolean(3)));
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
        open().close();
        List<Row> first = history();
        assertEquals(new Row("1", "init", true), first.get(0));
        try (Connection c = jdbc()) {
            for (String table : List.of("documents", "yjs_updates", "pm_steps")) {
                assertTrue(tableExists(c, table), table + " exists");
            }
        }

        // re-opening is a no-op: nothing re-applied, the record is untouched, data survives
        Store again = open();
        await(again.appendSteps("d", 0, List.of(step("a")), "c"));
        again.close();
        Store third = open();
        assertEquals(first, history());
        assertEquals(1, third.head("d").stepVersion());
        assertEquals(0, Migrations.apply(url(), null, null, Migrations.Dialect.SQLITE), "re-running applies nothing");
        assertEquals(first, history());
    }

    @Test
    void onlyNewerMigrationsRunAndAFailingOneLeavesNoTrace() throws Exception {
        open().close();
        int next = Integer.parseInt(history().get(history().size() - 1).version()) + 1;
        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(broken.resolve("V" + next + "__broken.sql"),
                "CREATE TABLE half_done (x INTEGER);\n-- the next statement fails\nSELECT * FROM no_such_table;\n");
        List<String> withBroken = List.of(Migrations.Dialect.SQLITE.location(), "filesystem:" + broken);
        assertThrows(FlywayException.class, () -> Migrations.apply(url(), null, null, withBroken));
        try (Connection c = jdbc()) {
            assertFalse(tableExists(c, "half_done"), "a failed migration is rolled back");
        }

        Path extraDir = Files.createDirectories(dir.resolve("extra"));
        Files.writeString(extraDir.resolve("V" + next + "__extra.sql"),
                "CREATE TABLE extra (x INTEGER); -- trailing comment\nINSERT INTO extra VALUES (42);\n");
        List<String> withNew = List.of(Migrations.Dialect.SQLITE.location(), "filesystem:" + extraDir);
        assertEquals(1, Migrations.apply(url(), null, null, withNew));
        assertEquals(0, Migrations.apply(url(), null, null, withNew));
        try (Connection c = jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM extra")) {
            rs.next();
            assertEquals(1, rs.getInt(1), "the migration ran exactly once");
        }
        List<Row> rows = history();
        assertEquals(new Row(Integer.toString(next), "extra", true), rows.get(rows.size() - 1));
    }

    @Test
    void aDatabaseMadeBeforeFlywayKeepsOpeningWithItsData() throws Exception {
        // what the hand-written runner left: its schema_version table and the V1 schema with data
        try (Connection c = jdbc(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    + " applied_at INTEGER NOT NULL)");
            st.execute("INSERT INTO schema_version VALUES (1, 'init', 0)");
            for (String sql : new String(SqliteStoreTest.class.getClassLoader()
                    .getResourceAsStream("db/migrations/sqlite/V1__init.sql").readAllBytes()).split(";")) {
                String statement = sql.lines().map(l -> l.replaceAll("--.*", "")).reduce("", (a, b) -> a + "\n" + b);
                if (!statement.isBlank()) {
                    st.execute(statement);
                }
            }
            st.execute("INSERT INTO documents VALUES ('old', 0), ('y', 0), ('s', 0), ('empty', 0)");
            st.execute("INSERT INTO yjs_updates VALUES ('old', 1, X'0102', 0), ('y', 1, X'01', 10)");
            st.execute("INSERT INTO pm_steps VALUES ('old', 0, '{}', 'c', 0), ('s', 0, '{}', 'c', 10)");
        }
        Store store = open();
        // the kind migration derives each document's kind from its earliest row (ties count as yjs)
        assertEquals(new Store.DocumentHead(1, 1, 1, 2, DocumentKind.YJS), store.head("old"));
        assertEquals(DocumentKind.YJS, store.head("y").kind());
        assertEquals(DocumentKind.STEPS, store.head("s").kind());
        assertEquals(null, store.head("empty").kind(), "a row without content has no kind yet");
        assertEquals(2L, await(store.appendUpdate("old", new byte[] {3})));
        assertInstanceOf(Store.DocumentKindException.class, failure(store.appendSteps("old", 1, List.of(step("b")), "c")),
                "a document that held both keeps the kind of its earliest row");
        await(store.appendSteps("empty", 0, List.of(step("a")), "c"));
        assertEquals(DocumentKind.STEPS, store.head("empty").kind());
        assertEquals("1", history().get(0).version(), "baselined at the version the old table recorded");
    }

    // ---- journal mode -------------------------------------------------------------------------------------

    @Test
    void walModeIsOnAndReadersDoNotBlockTheWriter() throws Exception {
        Store store = open();
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

    @Test
    void aConflictInAGroupCommitDoesNotSinkTheOtherWritesOfTheBatch() throws Exception {
        LongAdder commits = new LongAdder();
        SqliteStore store = SqliteStore.open(dir.resolve("collab.db"), SqliteStore.Synchronous.NORMAL, 2,
                nanos -> commits.increment());
        track(store);
        await(store.appendSteps("shared", 0, List.of(step("0"), step("1"), step("2")), "seed"));
        await(store.appendSteps("shared", 5, List.of(step("5")), "seed"));
        commits.reset();

        List<CompletableFuture<?>> good = new ArrayList<>();
        CompletableFuture<Void> conflicting;
        CompletableFuture<Void> sameVersionAfterRollback;
        // hold SQLite's write lock so the writer stalls on its first write while everything else queues up;
        // on release the queued writes are committed together
        try (Connection lock = jdbc(); Statement st = lock.createStatement()) {
            st.execute("BEGIN IMMEDIATE");
            good.add(store.appendUpdate("blocker", new byte[] {1}));
            conflicting = store.appendSteps("shared", 3, List.of(step("p"), step("q"), step("r")), "loser");
            sameVersionAfterRollback = store.appendSteps("shared", 3, List.of(step("3")), "winner");
            List<CompletableFuture<?>> concurrent = IntStream.range(0, 100).parallel()
                    .<CompletableFuture<?>>mapToObj(i -> i % 2 == 0
                            ? store.appendSteps("doc-" + i, 0, List.of(step("a"), step("b")), "c" + i)
                            : store.appendUpdate("doc-" + i, new byte[] {(byte) i}))
                    .toList();
            good.addAll(concurrent);
            assertFalse(conflicting.isDone(), "nothing commits while the lock is held");
            st.execute("COMMIT");
        }

        assertInstanceOf(Store.VersionTakenException.class, failure(conflicting));
        await(sameVersionAfterRollback);
        for (CompletableFuture<?> f : good) {
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


    /**
     * Commits do not checkpoint (a small edit's commit never waits for a large write's pages to be copied); the
     * store's checkpointer copies the log into the database file by itself, with no further commit, and what was
     * committed is read back after a reopen.
     */
    @Test
    void theLogIsCheckpointedOffTheWriter() throws Exception {
        Path db = dir.resolve("checkpoint.db");
        Store store = track(SqliteStore.open(db, SqliteStore.Synchronous.NORMAL));
        byte[] update = dev.collab.testing.YTestUpdates.insertText(5, "t", "x".repeat(4 << 20));
        dev.collab.testing.Await.result(store.appendUpdate("big", update));
        dev.collab.testing.Await.until("the database file holds the committed pages",
                () -> Files.size(db) > update.length);
        store.close();
        extra.remove(store);
        Store reopened = track(SqliteStore.open(db, SqliteStore.Synchronous.NORMAL));
        List<Store.StoredUpdate> rows = reopened.updatesAfter("big", 0, 10);
        assertEquals(1, rows.size());
        assertTrue(java.util.Arrays.equals(update, rows.getFirst().data()));
    }

    // ---- compaction in parts --------------------------------------------------------------------------------

    private long count(String sql) throws SQLException {
        try (Connection c = jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] out = new byte[length];
        new java.util.Random(seed).nextBytes(out);
        return out;
    }

    /**
     * A merged state of 5 MiB is written in parts, a transaction each: another document's edit queued behind the
     * compaction's first write commits with it, long before the state is swapped in (it used to wait for the whole
     * state's transaction), and the covered rows are deleted afterwards.
     */
    @Test
    void aLargeStateIsStoredInPartsAndOtherDocumentsCommitInBetween() throws Exception {
        LongAdder commits = new LongAdder();
        SqliteStore store = SqliteStore.open(dir.resolve("collab.db"), SqliteStore.Synchronous.NORMAL, 2,
                nanos -> commits.increment());
        track(store);
        for (int i = 1; i <= 5; i++) {
            await(store.appendUpdate("big", randomBytes(1 << 20, i)));
        }
        byte[] merged = randomBytes((5 << 20) + 12345, 99);
        List<String> completed = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> compaction;
        CompletableFuture<Long> edit;
        commits.reset();
        try (Connection lock = jdbc(); Statement st = lock.createStatement()) {
            st.execute("BEGIN IMMEDIATE");      // the writer stalls on the compaction's first part; the edit queues
            compaction = store.compact("big", 5, merged);
            compaction.whenComplete((v, e) -> completed.add("compaction"));
            edit = store.appendUpdate("small", new byte[] {1, 2, 3});
            edit.whenComplete((v, e) -> completed.add("edit"));
            st.execute("COMMIT");
        }
        await(compaction);
        assertEquals(1L, await(edit));
        assertEquals(List.of("edit", "compaction"), completed, "the edit did not wait for the whole state");
        assertTrue(commits.sum() >= 7, "6 parts and the swap, each its own commit: " + commits.sum());

        List<Store.StoredUpdate> rows = store.updates("big");
        assertEquals(1, rows.size());
        assertEquals(5L, rows.get(0).seq());
        assertTrue(java.util.Arrays.equals(merged, rows.get(0).data()));
        dev.collab.testing.Await.until("the covered rows are deleted",
                () -> count("SELECT COUNT(*) FROM yjs_updates WHERE document_id = 'big'") == 0);
        assertEquals(6, count("SELECT COUNT(*) FROM yjs_state_parts WHERE document_id = 'big'"));
        assertEquals(6L, await(store.appendUpdate("big", new byte[] {1})));

        // the next compaction's parts replace these; the old ones are deleted
        await(store.compact("big", 6, randomBytes(3 << 20, 7)));
        dev.collab.testing.Await.until("the replaced parts are deleted",
                () -> count("SELECT COUNT(*) FROM yjs_state_parts WHERE document_id = 'big'") == 3);
        assertEquals(List.of(6L), store.updates("big").stream().map(Store.StoredUpdate::seq).toList());
    }

    /**
     * A part that cannot be written fails the compaction: the previous state and the rows after it read back as
     * before, the parts already written are deleted, and the next compaction succeeds.
     */
    @Test
    void aFailedPartLeavesThePreviousStateAndItsPartsGo() throws Exception {
        Store store = open();
        byte[] first = randomBytes((2 << 20) + 1, 1);
        await(store.appendUpdate("d", first));
        await(store.appendUpdate("d", new byte[] {2}));
        await(store.compact("d", 2, first));
        byte[] tail = new byte[] {3};
        await(store.appendUpdate("d", tail));
        try (Connection c = jdbc(); Statement st = c.createStatement()) {
            st.execute("CREATE TRIGGER fail_part BEFORE INSERT ON yjs_state_parts WHEN NEW.part = 2"
                    + " BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END");
        }
        Throwable failed = failure(store.compact("d", 3, randomBytes(4 << 20, 2)));
        assertInstanceOf(Store.StoreException.class, failed);
        List<Store.StoredUpdate> rows = store.updates("d");
        assertEquals(List.of(2L, 3L), rows.stream().map(Store.StoredUpdate::seq).toList());
        assertTrue(java.util.Arrays.equals(first, rows.get(0).data()));
        assertTrue(java.util.Arrays.equals(tail, rows.get(1).data()));
        dev.collab.testing.Await.until("the failed compaction's parts are deleted",
                () -> count("SELECT COUNT(*) FROM yjs_state_parts WHERE document_id = 'd'") == 3);

        try (Connection c = jdbc(); Statement st = c.createStatement()) {
            st.execute("DROP TRIGGER fail_part");
        }
        byte[] merged = randomBytes(4 << 20, 3);
        await(store.compact("d", 3, merged));
        assertTrue(java.util.Arrays.equals(merged, store.updates("d").get(0).data()));
    }

    /**
     * What a process stopped while staging leaves (parts of a generation never made current, rows the state
     * covers) changes no read, and the store deletes it when it opens again.
     */
    @Test
    void whatACrashWhileStagingLeftIsIgnoredAndDeletedAtTheNextStart() throws Exception {
        Store store = open();
        byte[] state = randomBytes((1 << 20) + 7, 4);
        await(store.appendUpdate("d", state));
        await(store.appendUpdate("d", new byte[] {2}));
        await(store.compact("d", 2, state));
        await(store.appendUpdate("d", new byte[] {3}));
        store.close();
        try (Connection c = jdbc(); Statement st = c.createStatement()) {
            // a compaction up to seq 3 got two parts written, then the process died; the covered rows were not
            // deleted yet either (put back here)
            st.execute("INSERT INTO yjs_state_parts(document_id, generation, part, data) VALUES"
                    + " ('d', 9, 0, randomblob(1048576)), ('d', 9, 1, randomblob(1000))");
            st.execute("INSERT INTO yjs_updates(document_id, seq, data, created_at) VALUES ('d', 1, X'01', 0)");
        }
        Store reopened = open();
        List<Store.StoredUpdate> rows = reopened.updates("d");
        assertEquals(List.of(2L, 3L), rows.stream().map(Store.StoredUpdate::seq).toList());
        assertTrue(java.util.Arrays.equals(state, rows.get(0).data()));
        assertEquals(new Store.DocumentHead(0, 3, 2, state.length + 1, DocumentKind.YJS), reopened.head("d"));
        dev.collab.testing.Await.until("the leftovers are deleted",
                () -> count("SELECT COUNT(*) FROM yjs_state_parts WHERE generation = 9") == 0
                        && count("SELECT COUNT(*) FROM yjs_updates WHERE document_id = 'd' AND seq <= 2") == 0);
        assertEquals(2, count("SELECT COUNT(*) FROM yjs_state_parts WHERE document_id = 'd'"), "the current parts stay");
        assertEquals(4L, await(reopened.appendUpdate("d", new byte[] {4})));
    }

    /** A document compacted before parts existed keeps its merged row; its next compaction moves it to parts. */
    @Test
    void aMergedRowStoredBeforePartsIsReadAndReplacedByTheNextCompaction() throws Exception {
        open().close();
        try (Connection c = jdbc(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO documents(id, created_at, updated_at, kind) VALUES ('old', 0, 0, 'yjs')");
            st.execute("INSERT INTO yjs_updates(document_id, seq, data, created_at) VALUES ('old', 5, X'0a0b', 0),"
                    + " ('old', 6, X'0c', 0)");
        }
        Store store = open();
        assertEquals(List.of(5L, 6L), store.updates("old").stream().map(Store.StoredUpdate::seq).toList());
        assertEquals(7L, await(store.appendUpdate("old", new byte[] {13})));
        await(store.compact("old", 7, new byte[] {10, 11, 12, 13}));
        List<Store.StoredUpdate> rows = store.updates("old");
        assertEquals(1, rows.size());
        assertEquals(7L, rows.get(0).seq());
        dev.collab.testing.Await.until("the replaced rows are deleted",
                () -> count("SELECT COUNT(*) FROM yjs_updates WHERE document_id = 'old'") == 0);
    }
}
