package dev.collab.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.LongConsumer;

/**
 * SQLite store in WAL mode. All writes go through one writer thread that drains every queued write into one
 * transaction (group commit), so concurrent documents share an fsync instead of paying one each. Each write runs
 * under its own savepoint: one failing write (say, a taken step version) does not sink the others in its batch
 * (a batch of one needs none: its failure rolls the transaction back). The writer keeps its statements prepared,
 * since compiling SQL cost more than running it. Reads use a small pool of separate connections; under WAL they
 * never block the writer.
 */
public final class SqliteStore implements Store {
    private static final System.Logger LOG = System.getLogger(SqliteStore.class.getName());
    private static final int MAX_BATCH = 512;

    /** How much SQLite syncs to disk: NORMAL survives a process crash, FULL also survives power loss. */
    public enum Synchronous { OFF, NORMAL, FULL, EXTRA }

    private final String url;
    private final Synchronous synchronous;
    private final BlockingQueue<Write> writes = new LinkedBlockingQueue<>();
    private final BlockingQueue<Connection> readers;
    private final Connection writer;
    private final WriterStatements statements;
    private final Thread writerThread;
    private final LongConsumer commitNanos;
    private final Object lifecycle = new Object();
    private volatile boolean closed;

    private interface WriteAction {
        void apply(WriterStatements c) throws SQLException;
    }

    /** The writer connection's prepared statements, compiled once; used only by the writer thread, never closed by callers. */
    private static final class WriterStatements {
        private final Connection connection;
        private final Map<String, PreparedStatement> prepared = new HashMap<>();

        WriterStatements(Connection connection) {
            this.connection = connection;
        }

        PreparedStatement prepareStatement(String sql) throws SQLException {
            PreparedStatement ps = prepared.get(sql);
            if (ps == null) {
                ps = connection.prepareStatement(sql);
                prepared.put(sql, ps);
            }
            return ps;
        }

        void execute(String sql) throws SQLException {
            prepareStatement(sql).execute();
        }

        void close() throws SQLException {
            for (PreparedStatement ps : prepared.values()) {
                ps.close();
            }
            prepared.clear();
        }
    }

    private record Write(WriteAction action, CompletableFuture<Void> done) {
    }

    /** Queued by {@link #close()} after every accepted write. */
    private static final Write STOP = new Write(c -> { }, new CompletableFuture<>());

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
        this.commitNanos = commitNanos;
        this.writer = connect();
        try (Statement st = writer.createStatement()) {
            st.execute("PRAGMA journal_mode=WAL");
        }
        Migrations.apply(writer, Migrations.fromClasspath());
        writer.setAutoCommit(false);
        this.statements = new WriterStatements(writer);
        this.readers = new ArrayBlockingQueue<>(readConnections);
        for (int i = 0; i < readConnections; i++) {
            readers.add(connect());
        }
        this.writerThread = Thread.ofPlatform().name("sqlite-writer").daemon().start(this::writeLoop);
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
        return read(c -> {
            int version = 0;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT COALESCE(MAX(version) + 1, 0) FROM pm_steps WHERE document_id = ?")) {
                ps.setString(1, documentId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    version = rs.getInt(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(seq), 0), COUNT(*),"
                    + " COALESCE(SUM(LENGTH(data)), 0) FROM yjs_updates WHERE document_id = ?")) {
                ps.setString(1, documentId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new DocumentHead(version, rs.getLong(1), rs.getInt(2), rs.getLong(3));
                }
            }
        });
    }

    @Override
    public List<StoredStep> stepsSince(String documentId, int fromVersion, int limit) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT version, step, client_id FROM pm_steps"
                    + " WHERE document_id = ? AND version >= ? ORDER BY version LIMIT ?")) {
                ps.setString(1, documentId);
                ps.setInt(2, fromVersion);
                ps.setInt(3, limit);
                List<StoredStep> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new StoredStep(rs.getInt(1), rs.getString(2), rs.getString(3)));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public List<StoredUpdate> updates(String documentId) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT seq, data FROM yjs_updates WHERE document_id = ? ORDER BY seq")) {
                ps.setString(1, documentId);
                List<StoredUpdate> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new StoredUpdate(rs.getLong(1), rs.getBytes(2)));
                    }
                }
                return out;
            }
        });
    }

    /** Metadata columns for {@link #documentInfo}: one row per document, counts from correlated subqueries. */
    private static final String DOCUMENT_INFO = "SELECT d.id, d.created_at, d.updated_at,"
            + " (SELECT COALESCE(MAX(version) + 1, 0) FROM pm_steps WHERE document_id = d.id),"
            + " (SELECT COUNT(*) FROM yjs_updates WHERE document_id = d.id),"
            + " (SELECT COALESCE(SUM(LENGTH(data)), 0) FROM yjs_updates WHERE document_id = d.id)"
            + " + (SELECT COALESCE(SUM(LENGTH(CAST(step AS BLOB))), 0) FROM pm_steps WHERE document_id = d.id)"
            + " FROM documents d";

    private static DocumentInfo documentInfo(ResultSet rs) throws SQLException {
        return new DocumentInfo(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getInt(4), rs.getInt(5),
                rs.getLong(6));
    }

    @Override
    public Optional<DocumentInfo> document(String documentId) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(DOCUMENT_INFO + " WHERE d.id = ?")) {
                ps.setString(1, documentId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(documentInfo(rs)) : Optional.empty();
                }
            }
        });
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
                List<DocumentInfo> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(documentInfo(rs));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public List<String> untouchedSince(long cutoffMillis, int limit) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM documents WHERE updated_at < ? ORDER BY updated_at LIMIT ?")) {
                ps.setLong(1, cutoffMillis);
                ps.setInt(2, limit);
                List<String> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Optional<StoredSnapshot> snapshot(String documentId) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT version, doc FROM pm_snapshots WHERE document_id = ?")) {
                ps.setString(1, documentId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new StoredSnapshot(rs.getInt(1), rs.getString(2)))
                            : Optional.empty();
                }
            }
        });
    }

    @Override
    public boolean isHealthy() {
        if (closed || !writerThread.isAlive()) {
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
        return submit(c -> {
            ensureDocument(c, documentId);
            PreparedStatement ps = c.prepareStatement("INSERT INTO pm_steps(document_id, version, step,"
                    + " client_id, created_at) VALUES (?, ?, ?, ?, ?)");
            ps.clearBatch();
            try {
                long now = System.currentTimeMillis();
                for (int i = 0; i < stepsJson.size(); i++) {
                    ps.setString(1, documentId);
                    ps.setInt(2, firstVersion + i);
                    ps.setString(3, stepsJson.get(i));
                    ps.setString(4, clientId);
                    ps.setLong(5, now);
                    ps.addBatch();
                }
                ps.executeBatch();
            } catch (SQLException e) {
                if (e.getMessage() != null && e.getMessage().contains("UNIQUE")) {
                    throw new VersionTakenException(documentId, firstVersion);
                }
                throw e;
            }
        });
    }

    @Override
    public CompletableFuture<Void> appendUpdate(String documentId, long seq, byte[] update) {
        return submit(c -> {
            ensureDocument(c, documentId);
            insertUpdate(c, documentId, seq, update);
        });
    }

    @Override
    public CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged) {
        return submit(c -> {
            PreparedStatement del = c.prepareStatement("DELETE FROM yjs_updates WHERE document_id = ? AND seq <= ?");
            del.setString(1, documentId);
            del.setLong(2, upToSeq);
            del.executeUpdate();
            insertUpdate(c, documentId, upToSeq, merged);    // the merged log takes the last seq it covers
        });
    }

    @Override
    public CompletableFuture<Void> saveSnapshot(String documentId, int version, String docJson) {
        return submit(c -> {
            PreparedStatement ps = c.prepareStatement("INSERT INTO pm_snapshots(document_id, version, doc, created_at)"
                    + " VALUES (?, ?, ?, ?) ON CONFLICT(document_id) DO UPDATE SET version = excluded.version,"
                    + " doc = excluded.doc, created_at = excluded.created_at WHERE excluded.version >= version");
            ps.setString(1, documentId);
            ps.setInt(2, version);
            ps.setString(3, docJson);
            ps.setLong(4, System.currentTimeMillis());
            ps.executeUpdate();
        });
    }

    @Override
    public CompletableFuture<Boolean> delete(String documentId) {
        boolean[] existed = new boolean[1];
        return submit(c -> {
            for (String table : List.of("pm_snapshots", "yjs_updates", "pm_steps")) {
                PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE document_id = ?");
                ps.setString(1, documentId);
                ps.executeUpdate();
            }
            PreparedStatement ps = c.prepareStatement("DELETE FROM documents WHERE id = ?");
            ps.setString(1, documentId);
            existed[0] = ps.executeUpdate() > 0;
        }).thenApply(ignored -> existed[0]);
    }

    private static void insertUpdate(WriterStatements c, String documentId, long seq, byte[] data) throws SQLException {
        PreparedStatement ps = c.prepareStatement(
                "INSERT INTO yjs_updates(document_id, seq, data, created_at) VALUES (?, ?, ?, ?)");
        ps.setString(1, documentId);
        ps.setLong(2, seq);
        ps.setBytes(3, data);
        ps.setLong(4, System.currentTimeMillis());
        ps.executeUpdate();
    }

    /** Creates the document row on its first change, and records the time of every change. */
    private static void ensureDocument(WriterStatements c, String documentId) throws SQLException {
        PreparedStatement ps = c.prepareStatement("INSERT INTO documents(id, created_at, updated_at) VALUES (?, ?, ?)"
                + " ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at");
        long now = System.currentTimeMillis();
        ps.setString(1, documentId);
        ps.setLong(2, now);
        ps.setLong(3, now);
        ps.executeUpdate();
    }

    private CompletableFuture<Void> submit(WriteAction action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (lifecycle) {      // a write is either queued ahead of STOP or refused, never stranded
            if (closed) {
                done.completeExceptionally(new StoreException("store is closed", null));
                return done;
            }
            writes.add(new Write(action, done));
        }
        return done;
    }

    private void writeLoop() {
        List<Write> batch = new ArrayList<>(MAX_BATCH);
        boolean stopping = false;
        while (!stopping) {
            try {
                batch.add(writes.take());
                writes.drainTo(batch, MAX_BATCH - 1);
                stopping = batch.remove(STOP);      // STOP is queued last: commit what came before it, then end
                if (!batch.isEmpty()) {
                    commitBatch(batch);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, "store writer failed", t);
                for (Write w : batch) {
                    w.done().completeExceptionally(t);
                }
            } finally {
                batch.clear();
            }
        }
    }

    private void commitBatch(List<Write> batch) {
        long start = System.nanoTime();
        Throwable[] failures = new Throwable[batch.size()];
        boolean alone = batch.size() == 1;
        try {
            if (alone) {
                failures[0] = apply(batch.get(0).action());
            } else {
                for (int i = 0; i < batch.size(); i++) {
                    failures[i] = applyInSavepoint(batch.get(i).action());
                }
            }
            if (alone && failures[0] != null) {
                writer.rollback();
            } else {
                writer.commit();
            }
        } catch (SQLException e) {
            rollbackQuietly();
            StoreException failure = new StoreException("commit failed: " + e.getMessage(), e);
            for (Write w : batch) {
                w.done().completeExceptionally(failure);
            }
            return;
        }
        commitNanos.accept(System.nanoTime() - start);
        for (int i = 0; i < batch.size(); i++) {
            if (failures[i] == null) {
                batch.get(i).done().complete(null);
            } else {
                batch.get(i).done().completeExceptionally(failures[i]);
            }
        }
    }

    /** Runs one write on its own in the transaction; returns its failure (the caller rolls back) or null. */
    private Throwable apply(WriteAction action) {
        try {
            action.apply(statements);
            return null;
        } catch (SQLException | RuntimeException e) {
            return asFailure(e);
        }
    }

    /** What the writer reports for a failed write: SQL errors as StoreException, the rest as thrown. */
    private static Throwable asFailure(Exception e) {
        return e instanceof SQLException ? new StoreException(e.getMessage(), e) : e;
    }

    /** Runs one write under a savepoint; returns its failure (rolled back) or null. */
    private Throwable applyInSavepoint(WriteAction action) throws SQLException {
        statements.execute("SAVEPOINT w");
        try {
            action.apply(statements);
            statements.execute("RELEASE w");
            return null;
        } catch (SQLException | RuntimeException e) {
            statements.execute("ROLLBACK TO w");
            statements.execute("RELEASE w");
            return asFailure(e);
        }
    }

    private void rollbackQuietly() {
        try {
            writer.rollback();
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.WARNING, "rollback failed", e);
        }
    }

    @Override
    public String toString() {
        return url.substring("jdbc:sqlite:".length());
    }

    /** Finishes every queued write, then closes all connections. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            writes.add(STOP);
        }
        try {
            writerThread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            statements.close();
            writer.close();
            for (Connection c : readers) {
                c.close();
            }
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the database failed", e);
        }
    }
}
