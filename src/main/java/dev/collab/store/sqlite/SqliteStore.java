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
 */
public final class SqliteStore implements Store {
    private static final int MAX_BATCH = 512;

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

    @Override
    public DocumentHead head(String documentId) {
        return read(c -> head(c, documentId));
    }

    @Override
    public Map<String, DocumentHead> heads(Collection<String> documentIds) {
        return read(c -> {
            Map<String, DocumentHead> out = new LinkedHashMap<>();
            for (String id : documentIds) {
                out.put(id, head(c, id));
            }
            return out;
        });
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
        try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(seq), 0), COUNT(*),"
                + " COALESCE(SUM(LENGTH(data)), 0) FROM yjs_updates WHERE document_id = ?")) {
            ps.setString(1, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new DocumentHead(version, rs.getLong(1), rs.getInt(2), rs.getLong(3), kind);
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
        return read(c -> SqlStatements.updates(c, documentId, afterSeq, Long.MAX_VALUE, limit));
    }

    /** Metadata columns for {@link #documentInfo}: one row per document, counts from correlated subqueries. */
    private static final String DOCUMENT_INFO = "SELECT d.id, d.created_at, d.updated_at,"
            + " (SELECT COALESCE(MAX(version) + 1, 0) FROM pm_steps WHERE document_id = d.id),"
            + " (SELECT COUNT(*) FROM yjs_updates WHERE document_id = d.id),"
            + " (SELECT COALESCE(SUM(LENGTH(data)), 0) FROM yjs_updates WHERE document_id = d.id)"
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
            PreparedStatement ps = s.prepare("INSERT INTO yjs_updates(document_id, seq, data, created_at)"
                    + " SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM yjs_updates WHERE document_id = ? RETURNING seq");
            ps.setString(1, documentId);
            ps.setBytes(2, update);
            ps.setLong(3, System.currentTimeMillis());
            ps.setString(4, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Override
    public CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged) {
        return writer.submit(documentId, merged.length, s -> {
            PreparedStatement del = s.prepare("DELETE FROM yjs_updates WHERE document_id = ? AND seq <= ?");
            del.setString(1, documentId);
            del.setLong(2, upToSeq);
            del.executeUpdate();
            // the merged log takes the last seq it covers
            PreparedStatement ps = s.prepare(
                    "INSERT INTO yjs_updates(document_id, seq, data, created_at) VALUES (?, ?, ?, ?)");
            ps.setString(1, documentId);
            ps.setLong(2, upToSeq);
            ps.setBytes(3, merged);
            ps.setLong(4, System.currentTimeMillis());
            ps.executeUpdate();
            return null;
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
        return writer.submit(documentId, s -> SqlStatements.delete(s, documentId));
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
