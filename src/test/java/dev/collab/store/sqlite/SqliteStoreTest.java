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
}
