package dev.collab.store.sqlite;

import dev.collab.store.DocumentKind;
import dev.collab.store.GroupCommitWriter;
import dev.collab.store.Migrations;
import dev.collab.store.SqlStatements;
import dev.collab.store.Store;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * SQLite store in WAL mode. All writes go through one {@link GroupCommitWriter}; the writer is the only writer of
 * the file, so a document's next sequence number is its highest stored one plus one, read inside the writing
 * transaction. Reads use a small pool of separate connections; under WAL they never block the writer.
 *
 * <p>SQLite has one writer per file, so one large transaction holds back every other document's commit (and the
 * relay of its edits). Compaction therefore stores a merged state in parts of {@link #PART_BYTES}, each in its own
 * transaction, and makes it current in a small one ({@code yjs_states}, see the V4 migration); what it replaced (the
 * covered update rows, the previous parts) is deleted afterwards in pieces of about that size. Readers take the
 * current state and the rows after it in one read transaction, so they never see a half-staged state; a crash while
 * staging leaves the previous state current and the staged parts as garbage, deleted when the store opens again.
 */
public final class SqliteStore implements Store {
    private static final int MAX_BATCH = 512;
    /** A stored state's part, and about what one garbage-deleting transaction removes: the writer's batch budget. */
    static final int PART_BYTES = (int) GroupCommitWriter.BATCH_BYTES;
    /** Covered update rows deleted per transaction at most (besides {@link #PART_BYTES}). */
    private static final int DELETE_ROWS = 4096;

    /** How much SQLite syncs to disk: NORMAL survives a process crash, FULL also survives power loss. */
    public enum Synchronous { OFF, NORMAL, FULL, EXTRA }

    private final String url;
    private final Synchronous synchronous;
    private final BlockingQueue<Connection> readers;
    private final GroupCommitWriter writer;
    /** How often the log is copied into the database file, off the writer (see {@link #writerPragmas}). */
    private static final long CHECKPOINT_MILLIS = 200;
    private static final System.Logger LOG = System.getLogger(SqliteStore.class.getName());
    private final Connection checkpoints;
    private final Thread checkpointer;
    private volatile boolean closed;

    public static SqliteStore open(Path file, Synchronous synchronous) {
        return open(file, synchronous, 4, nanos -> { });
    }

    /**
     * Opens (creating when absent) the database, applies migrations and starts the writer.
     *
     * @param commitNanos told the duration of each group commit, for metrics
     */
    public static SqliteStore open(Path file, Synchronous synchronous, int readConnections, LongConsumer commitNanos) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return new SqliteStore("jdbc:sqlite:" + file.toAbsolutePath(), synchronous, readConnections, commitNanos);
        } catch (Exception e) {
            throw new StoreException("cannot open database " + file + ": " + e.getMessage(), e);
        }
    }

    private SqliteStore(String url, Synchronous synchronous, int readConnections, LongConsumer commitNanos)
            throws SQLException {
        this.url = url;
        this.synchronous = synchronous;
        Connection first = connect();
        try (Statement st = first.createStatement()) {
            st.execute("PRAGMA journal_mode=WAL");
        }
        Migrations.apply(url, null, null, Migrations.Dialect.SQLITE);
        this.readers = new ArrayBlockingQueue<>(readConnections);
        for (int i = 0; i < readConnections; i++) {
            readers.add(connect());
        }
        writerPragmas(first);
        this.writer = new GroupCommitWriter("sqlite-writer", first, () -> writerPragmas(connect()), MAX_BATCH,
                commitNanos);
        this.checkpoints = connect();
        this.checkpointer = Thread.ofPlatform().name("sqlite-checkpoint").daemon().start(this::checkpointLoop);
        collectGarbageLeftBefore();
    }

    /**
     * What an earlier process left: parts of states never made current (it stopped while staging) and rows a state
     * covers (it stopped before deleting them, or the database predates parts). Deleted in pieces by the writer.
     */
    private void collectGarbageLeftBefore() throws SQLException {
        List<String> staleParts = new ArrayList<>();
        List<Long> staleGenerations = new ArrayList<>();
        List<String> covered = new ArrayList<>();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT DISTINCT p.document_id, p.generation FROM yjs_state_parts p"
                    + " WHERE NOT EXISTS (SELECT 1 FROM yjs_states s WHERE s.document_id = p.document_id"
                    + " AND s.generation = p.generation)")) {
                while (rs.next()) {
                    staleParts.add(rs.getString(1));
                    staleGenerations.add(rs.getLong(2));
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT s.document_id FROM yjs_states s WHERE EXISTS (SELECT 1"
                    + " FROM yjs_updates u WHERE u.document_id = s.document_id AND u.seq <= s.upto_seq)")) {
                while (rs.next()) {
                    covered.add(rs.getString(1));
                }
            }
        }
        for (int i = 0; i < staleParts.size(); i++) {
            deleteParts(staleParts.get(i), staleGenerations.get(i));
        }
        covered.forEach(this::deleteCoveredRows);
    }

    /**
     * The writer never checkpoints: with SQLite's automatic checkpoint, the commit that takes the log past 1,000 pages
     * copies the whole log into the database file before it returns, so a small edit's commit waited for the copy of
     * a large paste's or merge's pages (and its relay with it). {@link #checkpointLoop} does it on its own
     * connection instead (a PASSIVE checkpoint never blocks the writer); the log file is cut back to 64 MiB when
     * SQLite restarts it.
     */
    private Path walFile() {
        return Path.of(url.substring("jdbc:sqlite:".length()) + "-wal");
    }

    /** The log file's size and modification time ("" when it cannot be read: then every round checkpoints). */
    private static String logState(Path wal) {
        try {
            return Files.size(wal) + "@" + Files.getLastModifiedTime(wal).toInstant();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static Connection writerPragmas(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA wal_autocheckpoint=0");
            st.execute("PRAGMA journal_size_limit=" + (64L << 20));
        }
        return c;
    }

    /**
     * Checkpoints every {@link #CHECKPOINT_MILLIS} while the log file changes (one stat of the file otherwise) until
     * the store closes.
     */
    private void checkpointLoop() {
        Path wal = walFile();
        String checkpointed = null;
        while (!closed) {
            try {
                Thread.sleep(CHECKPOINT_MILLIS);   // a fixed cadence, not a wait for a condition
                String state = logState(wal);
                if (!state.isEmpty() && state.equals(checkpointed)) {
                    continue;
                }
                try (Statement st = checkpoints.createStatement()) {
                    st.execute("PRAGMA wal_checkpoint(PASSIVE)");
                }
                checkpointed = state;
            } catch (InterruptedException e) {
                return;
            } catch (SQLException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "checkpoint failed (the log grows until one succeeds): "
                            + e.getMessage());
                }
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties properties = new Properties();
        // the driver would otherwise run "SELECT last_insert_rowid()" after every insert; nothing here reads it
        properties.setProperty("jdbc.get_generated_keys", "false");
        Connection c = DriverManager.getConnection(url, properties);
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout=10000");
            st.execute("PRAGMA synchronous=" + synchronous.name());
            st.execute("PRAGMA foreign_keys=ON");
        }
        return c;
    }

    // ---- reads -------------------------------------------------------------------------------------------

    private interface Read<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T read(Read<T> read) {
        Connection c;
        try {
            c = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for a read connection", e);
        }
        try {
            return read.run(c);
        } catch (SQLException e) {
            throw new StoreException("read failed: " + e.getMessage(), e);
        } finally {
            readers.add(c);
        }
    }

    /** A read of several statements in one read transaction: one snapshot, whatever the writer commits meanwhile. */
    private <T> T readConsistent(Read<T> read) {
        return read(c -> {
            c.setAutoCommit(false);
            try {
                return read.run(c);
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        });
    }

    @Override
    public DocumentHead head(String documentId) {
        return readConsistent(c -> head(c, documentId));
    }

    @Override
    public Map<String, DocumentHead> heads(Collection<String> documentIds) {
        return readConsistent(c -> {
            Map<String, DocumentHead> out = new LinkedHashMap<>();
            for (String id : documentIds) {
                out.put(id, head(c, id));
            }
            return out;
        });
    }

    /** A document's current compacted state: the generation of its parts, the last seq it covers, its length. */
    private record State(long generation, long uptoSeq, long bytes) {
    }

    private static State state(Connection c, String documentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT generation, upto_seq, bytes FROM yjs_states WHERE document_id = ?")) {
            ps.setString(1, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new State(rs.getLong(1), rs.getLong(2), rs.getLong(3)) : null;
            }
        }
    }

    /** The state's bytes: its parts in order (fails when they do not add up, which the swap rules out). */
    private static byte[] assemble(Connection c, String documentId, State state) throws SQLException {
        byte[] out = new byte[Math.toIntExact(state.bytes())];
        int at = 0;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT data FROM yjs_state_parts WHERE document_id = ? AND generation = ? ORDER BY part")) {
            ps.setString(1, documentId);
            ps.setLong(2, state.generation());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] part = rs.getBytes(1);
                    if (at + part.length > out.length) {
                        break;
                    }
                    System.arraycopy(part, 0, out, at, part.length);
                    at += part.length;
                }
            }
        }
        if (at != out.length) {
            throw new SQLException("the stored state of " + documentId + " (generation " + state.generation()
                    + ") does not add up to its " + state.bytes() + " bytes");
        }
        return out;
    }

    /**
     * Rows after {@code afterSeq}, at most {@code limit}: the current state first (as one row at the seq it covers
     * up to) when it is after {@code afterSeq}, then the update rows it does not cover. The caller holds one read
     * transaction.
     */
    private static List<StoredUpdate> updates(Connection c, String documentId, long afterSeq, int limit)
            throws SQLException {
        State state = state(c, documentId);
        List<StoredUpdate> out = new ArrayList<>();
        long from = afterSeq;
        if (state != null) {
            if (state.uptoSeq() > afterSeq && limit > 0) {
                out.add(new StoredUpdate(state.uptoSeq(), assemble(c, documentId, state)));
            }
            from = Math.max(afterSeq, state.uptoSeq());
        }
        out.addAll(SqlStatements.updates(c, documentId, from, Long.MAX_VALUE, limit - out.size()));
        return out;
    }

    private static DocumentHead head(Connection c, String documentId) throws SQLException {
        int version;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT COALESCE(MAX(version) + 1, 0) FROM pm_steps WHERE document_id = ?")) {
            ps.setString(1, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                version = rs.getInt(1);
            }
        }
        DocumentKind kind = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT kind FROM documents WHERE id = ?")) {
            ps.setString(1, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    kind = DocumentKind.of(rs.getString(1));
                }
            }
        }
        State state = state(c, documentId);
        long after = state == null ? 0 : state.uptoSeq();
        try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(seq), ?), COUNT(*),"
                + " COALESCE(SUM(LENGTH(data)), 0) FROM yjs_updates WHERE document_id = ? AND seq > ?")) {
            ps.setLong(1, after);
            ps.setString(2, documentId);
            ps.setLong(3, after);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                int stateRows = state == null ? 0 : 1;
                long stateBytes = state == null ? 0 : state.bytes();
                return new DocumentHead(version, rs.getLong(1), rs.getInt(2) + stateRows, rs.getLong(3) + stateBytes,
                        kind);
            }
        }
    }

    @Override
    public List<StoredStep> stepsSince(String documentId, int fromVersion, int limit) {
        return read(c -> SqlStatements.stepsSince(c, documentId, fromVersion, limit));
    }

    @Override
    public List<StoredUpdate> updates(String documentId) {
        return updatesAfter(documentId, Long.MIN_VALUE, Integer.MAX_VALUE);
    }

    @Override
    public List<StoredUpdate> updatesAfter(String documentId, long afterSeq, int limit) {
        return readConsistent(c -> updates(c, documentId, afterSeq, limit));
    }

    /** The update rows the document's state (if any) does not cover, for {@link #DOCUMENT_INFO}. */
    private static final String LIVE_UPDATES = " FROM yjs_updates u WHERE u.document_id = d.id AND u.seq >"
            + " COALESCE((SELECT upto_seq FROM yjs_states s WHERE s.document_id = d.id), 0)";

    /**
     * Metadata columns for {@link #documentInfo}: one row per document, counts from correlated subqueries (one
     * statement, one snapshot); the compacted state counts as one update row.
     */
    private static final String DOCUMENT_INFO = "SELECT d.id, d.created_at, d.updated_at,"
            + " (SELECT COALESCE(MAX(version) + 1, 0) FROM pm_steps WHERE document_id = d.id),"
            + " (SELECT COUNT(*)" + LIVE_UPDATES + ")"
            + " + (SELECT COUNT(*) FROM yjs_states s WHERE s.document_id = d.id),"
            + " (SELECT COALESCE(SUM(LENGTH(u.data)), 0)" + LIVE_UPDATES + ")"
            + " + COALESCE((SELECT bytes FROM yjs_states s WHERE s.document_id = d.id), 0)"
            + " + (SELECT COALESCE(SUM(LENGTH(CAST(step AS BLOB))), 0) FROM pm_steps WHERE document_id = d.id),"
            + " d.kind FROM documents d";

    @Override
    public Optional<DocumentInfo> document(String documentId) {
        return read(c -> SqlStatements.document(c, DOCUMENT_INFO, documentId));
    }

    @Override
    public List<DocumentInfo> documents(String prefix, String afterId, int limit) {
        return read(c -> {
            // ids sorting at or after the prefix, matching it: the primary key index serves both bounds
            try (PreparedStatement ps = c.prepareStatement(DOCUMENT_INFO
                    + " WHERE d.id >= ? AND d.id > ? AND substr(d.id, 1, ?) = ? ORDER BY d.id LIMIT ?")) {
                ps.setString(1, prefix);
                ps.setString(2, afterId == null ? "" : afterId);
                ps.setInt(3, prefix.length());
                ps.setString(4, prefix);
                ps.setInt(5, limit);
                return SqlStatements.documentInfos(ps);
            }
        });
    }

    @Override
    public List<String> untouchedSince(long cutoffMillis, int limit) {
        return read(c -> SqlStatements.untouchedSince(c, cutoffMillis, limit));
    }

    @Override
    public Optional<StoredSnapshot> snapshot(String documentId) {
        return read(c -> SqlStatements.snapshot(c, documentId));
    }

    @Override
    public boolean isHealthy() {
        if (!writer.isRunning()) {
            return false;
        }
        try {
            return read(c -> {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                    return rs.next();
                }
            });
        } catch (StoreException e) {
            return false;
        }
    }

    // ---- writes ------------------------------------------------------------------------------------------

    @Override
    public CompletableFuture<Void> appendSteps(String documentId, int firstVersion, List<String> stepsJson,
                                               String clientId) {
        long weight = stepsJson.stream().mapToLong(String::length).sum();
        return writer.submit(documentId, weight, s -> {
            ensureDocument(s, documentId, DocumentKind.STEPS);
            PreparedStatement ps = s.prepare("INSERT INTO pm_steps(document_id, version, step,"
                    + " client_id, created_at) VALUES (?, ?, ?, ?, ?)");
            long now = System.currentTimeMillis();
            try {
                for (int i = 0; i < stepsJson.size(); i++) {
                    ps.setString(1, documentId);
                    ps.setInt(2, firstVersion + i);
                    ps.setString(3, stepsJson.get(i));
                    ps.setString(4, clientId);
                    ps.setLong(5, now);
                    ps.executeUpdate();
                }
            } catch (SQLiteException e) {
                if (e.getResultCode() == SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY) {
                    throw new VersionTakenException(documentId, firstVersion);
                }
                throw e;
            }
            return null;
        });
    }

    @Override
    public CompletableFuture<Long> appendUpdate(String documentId, byte[] update) {
        return writer.submit(documentId, update.length, s -> {
            ensureDocument(s, documentId, DocumentKind.YJS);
            // after the highest row, or the state's seq when it covers every row (they may be deleted already)
            PreparedStatement ps = s.prepare("INSERT INTO yjs_updates(document_id, seq, data, created_at)"
                    + " SELECT ?, MAX(COALESCE(MAX(seq), 0), COALESCE((SELECT upto_seq FROM yjs_states"
                    + " WHERE document_id = ?), 0)) + 1, ?, ? FROM yjs_updates WHERE document_id = ? RETURNING seq");
            ps.setString(1, documentId);
            ps.setString(2, documentId);
            ps.setBytes(3, update);
            ps.setLong(4, System.currentTimeMillis());
            ps.setString(5, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /**
     * Stages {@code merged} as parts of {@link #PART_BYTES}, one transaction each (the next is queued when the
     * previous committed, so other writes get in between), then makes it the current state in a small transaction:
     * from then on readers see it and the rows after {@code upToSeq}. Completes after that swap; the covered rows
     * and the previous state's parts are deleted afterwards, in pieces. A swap finds the staged parts whole or fails
     * (a document deleted meanwhile took them); a state already stored past {@code upToSeq} stays.
     *
     * <p>Each of these writes starts with a write statement: SQLite does not wait for its lock (busy timeout) when a
     * transaction that has read asks to write, it fails at once.
     */
    @Override
    public CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged) {
        int parts = Math.max(1, (merged.length + PART_BYTES - 1) / PART_BYTES);
        long[] generation = {-1};   // set by the first part's transaction, read by the later ones (writer thread)
        CompletableFuture<Void> staged = writer.submit(documentId, partLength(merged, 0), s -> {
            // a generation above every one of the document's parts: current, replaced or left by a crash
            PreparedStatement first = s.prepare("INSERT INTO yjs_state_parts(document_id, generation, part, data)"
                    + " SELECT ?, COALESCE(MAX(generation), 0) + 1, 0, ? FROM yjs_state_parts WHERE document_id = ?"
                    + " RETURNING generation");
            first.setString(1, documentId);
            first.setBytes(2, part(merged, 0));
            first.setString(3, documentId);
            try (ResultSet rs = first.executeQuery()) {
                rs.next();
                generation[0] = rs.getLong(1);
            }
            return null;
        });
        for (int i = 1; i < parts; i++) {
            int part = i;
            staged = staged.thenCompose(v -> writer.submit(documentId, partLength(merged, part), s -> {
                PreparedStatement ps = s.prepare(
                        "INSERT INTO yjs_state_parts(document_id, generation, part, data) VALUES (?, ?, ?, ?)");
                ps.setString(1, documentId);
                ps.setLong(2, generation[0]);
                ps.setInt(3, part);
                ps.setBytes(4, part(merged, part));
                ps.executeUpdate();
                return null;
            }));
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        staged.thenCompose(v -> writer.submit(documentId, 0,
                        s -> swap(s, documentId, generation[0], parts, merged.length, upToSeq)))
                .whenComplete((swapped, error) -> {
                    if (error != null) {
                        if (generation[0] >= 0) {
                            deleteParts(documentId, generation[0]);
                        }
                        done.completeExceptionally(error instanceof java.util.concurrent.CompletionException c
                                && c.getCause() != null ? c.getCause() : error);
                        return;
                    }
                    done.complete(null);
                    if (swapped) {
                        deleteReplacedParts(documentId);
                        deleteCoveredRows(documentId);
                    } else {
                        deleteParts(documentId, generation[0]);
                    }
                });
        return done;
    }

    private static int partLength(byte[] merged, int part) {
        return Math.min(PART_BYTES, merged.length - part * PART_BYTES);
    }

    private static byte[] part(byte[] merged, int part) {
        int from = part * PART_BYTES;
        return java.util.Arrays.copyOfRange(merged, from, from + partLength(merged, part));
    }

    /**
     * Makes a staged generation the document's state when its parts are all there and no state past
     * {@code upToSeq} is stored. True when it did; false when a later state is stored (the staged parts are garbage
     * then); fails when parts are missing.
     */
    private static boolean swap(GroupCommitWriter.Statements s, String documentId, long generation, int parts,
                                long bytes, long upToSeq) throws SQLException {
        String staged = " FROM yjs_state_parts WHERE document_id = ? AND generation = ?";
        // the upsert's SELECT needs its WHERE (SQLite's parser); a later state is kept by the DO UPDATE's WHERE
        PreparedStatement ps = s.prepare("INSERT INTO yjs_states(document_id, generation, upto_seq, bytes, created_at)"
                + " SELECT ?, ?, ?, ?, ? WHERE (SELECT COUNT(*)" + staged + ") = ?"
                + " AND (SELECT COALESCE(SUM(LENGTH(data)), 0)" + staged + ") = ?"
                + " ON CONFLICT (document_id) DO UPDATE SET generation = excluded.generation,"
                + " upto_seq = excluded.upto_seq, bytes = excluded.bytes, created_at = excluded.created_at"
                + " WHERE excluded.upto_seq >= yjs_states.upto_seq");
        ps.setString(1, documentId);
        ps.setLong(2, generation);
        ps.setLong(3, upToSeq);
        ps.setLong(4, bytes);
        ps.setLong(5, System.currentTimeMillis());
        ps.setString(6, documentId);
        ps.setLong(7, generation);
        ps.setInt(8, parts);
        ps.setString(9, documentId);
        ps.setLong(10, generation);
        ps.setLong(11, bytes);
        if (ps.executeUpdate() > 0) {
            return true;
        }
        PreparedStatement check = s.prepare("SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0)" + staged);
        check.setString(1, documentId);
        check.setLong(2, generation);
        try (ResultSet rs = check.executeQuery()) {
            rs.next();
            if (rs.getInt(1) != parts || rs.getLong(2) != bytes) {
                throw new StoreException("the staged state of " + documentId + " is incomplete (" + rs.getInt(1)
                        + " of " + parts + " parts): the document was deleted meanwhile", null);
            }
        }
        return false;
    }

    /** Deletes the parts of a generation that is not current (staged in vain), one part per transaction. */
    private void deleteParts(String documentId, long generation) {
        collect(documentId, "parts of generation " + generation, s -> {
            PreparedStatement ps = s.prepare("DELETE FROM yjs_state_parts WHERE rowid = (SELECT rowid"
                    + " FROM yjs_state_parts WHERE document_id = ? AND generation = ? ORDER BY part LIMIT 1)"
                    + " AND generation IS NOT (SELECT generation FROM yjs_states WHERE document_id = ?)");
            ps.setString(1, documentId);
            ps.setLong(2, generation);
            ps.setString(3, documentId);
            return ps.executeUpdate() > 0;
        });
    }

    /** Deletes the parts of the generations before the current one (replaced states), one part per transaction. */
    private void deleteReplacedParts(String documentId) {
        collect(documentId, "replaced parts", s -> {
            PreparedStatement ps = s.prepare("DELETE FROM yjs_state_parts WHERE rowid = (SELECT rowid"
                    + " FROM yjs_state_parts WHERE document_id = ? AND generation <"
                    + " (SELECT generation FROM yjs_states WHERE document_id = ?) ORDER BY generation, part LIMIT 1)");
            ps.setString(1, documentId);
            ps.setString(2, documentId);
            return ps.executeUpdate() > 0;
        });
    }

    /**
     * Deletes the update rows the document's state covers, oldest first, up to about {@link #PART_BYTES} (and at
     * most {@link #DELETE_ROWS} rows) per transaction.
     */
    private void deleteCoveredRows(String documentId) {
        collect(documentId, "compacted rows", s -> {
            PreparedStatement ps = s.prepare("DELETE FROM yjs_updates WHERE document_id = ?1 AND seq <= ("
                    + "SELECT MAX(seq) FROM (SELECT seq, SUM(len) OVER (ORDER BY seq) - len AS before FROM ("
                    + "SELECT seq, LENGTH(data) AS len FROM yjs_updates WHERE document_id = ?1 AND seq <="
                    + " (SELECT upto_seq FROM yjs_states WHERE document_id = ?1) ORDER BY seq LIMIT ?2))"
                    + " WHERE before < ?3)");
            ps.setString(1, documentId);
            ps.setInt(2, DELETE_ROWS);
            ps.setInt(3, PART_BYTES);
            return ps.executeUpdate() > 0;
        });
    }

    /** Runs {@code piece} (true: there may be more) as writes of their own until it finds nothing left. */
    private void collect(String documentId, String what, GroupCommitWriter.Work<Boolean> piece) {
        writer.submit(documentId, PART_BYTES, piece).whenComplete((more, error) -> {
            if (error != null) {
                LOG.log(System.Logger.Level.DEBUG, "deleting " + what + " of " + documentId
                        + " failed (left for the next start): " + error);
            } else if (more) {
                collect(documentId, what, piece);
            }
        });
    }

    @Override
    public CompletableFuture<Void> saveSnapshot(String documentId, int version, String docJson) {
        return writer.submit(documentId, docJson.length(), s -> {
            SqlStatements.saveSnapshot(s, documentId, version, docJson);
            return null;
        });
    }

    @Override
    public CompletableFuture<Boolean> delete(String documentId) {
        return writer.submit(documentId, s -> {
            for (String table : List.of("yjs_state_parts", "yjs_states")) {
                PreparedStatement ps = s.prepare("DELETE FROM " + table + " WHERE document_id = ?");
                ps.setString(1, documentId);
                ps.executeUpdate();
            }
            return SqlStatements.delete(s, documentId);
        });
    }

    /**
     * Creates the document's row on its first write, which fixes its kind, records the time of every change, and
     * refuses a write of the other kind (the caller's savepoint or rollback drops whatever the write did).
     */
    private static void ensureDocument(GroupCommitWriter.Statements s, String documentId, DocumentKind kind)
            throws SQLException {
        PreparedStatement ps = s.prepare("INSERT INTO documents(id, created_at, updated_at, kind)"
                + " VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at,"
                + " kind = COALESCE(kind, excluded.kind) RETURNING kind");
        long now = System.currentTimeMillis();
        ps.setString(1, documentId);
        ps.setLong(2, now);
        ps.setLong(3, now);
        ps.setString(4, kind.wire());
        DocumentKind stored;
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            stored = DocumentKind.of(rs.getString(1));
        }
        if (stored != kind) {
            throw new DocumentKindException(documentId, stored);
        }
    }

    @Override
    public String toString() {
        return url.substring("jdbc:sqlite:".length());
    }

    /** Finishes every queued write, then closes all connections. */
    @Override
    public void close() {
        closed = true;
        checkpointer.interrupt();
        try {
            checkpointer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.close();
        try (Statement st = checkpoints.createStatement()) {
            st.execute("PRAGMA wal_checkpoint(TRUNCATE)");     // what the writer's last commits left in the log
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.DEBUG, "final checkpoint failed", e);
        }
        try {
            checkpoints.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
        for (Connection c : readers) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
    }
}
