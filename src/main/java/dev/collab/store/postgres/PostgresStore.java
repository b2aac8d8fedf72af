package dev.collab.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.collab.store.DocumentKind;
import dev.collab.store.GroupCommitWriter;
import dev.collab.store.Migrations;
import dev.collab.store.SqlStatements;
import dev.collab.store.Store;

import java.sql.Array;
import java.sql.Connection;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * PostgreSQL store, the shared source of truth when several nodes serve the same documents. Appends go through a
 * {@link GroupCommitWriter} (one transaction per batch, writes ordered by document so two nodes' batches take the
 * document rows' locks in the same order and never deadlock). An update's sequence number is the document row's
 * counter, incremented in the appending transaction: the row lock makes the numbers gapless and in commit order
 * across nodes. Steps keep {@code PRIMARY KEY (document, version)}: of two nodes at one version exactly one wins,
 * the other gets {@link VersionTakenException} (SQLSTATE 23505). Compaction runs in its own transaction under a
 * per-document advisory lock and merges exactly the rows it deletes, read in sequence order, so a node whose
 * memory lacks an update can never compact it away.
 */
public final class PostgresStore implements Store {
    private static final System.Logger LOG = System.getLogger(PostgresStore.class.getName());
    private static final int MAX_BATCH = 512;
    private static final String UNIQUE_VIOLATION = "23505";

    /** Connection settings (a JDBC URL such as {@code jdbc:postgresql://127.0.0.1:5432/collab}). */
    public record Config(String url, String user, String password, int poolSize) {
        public Config {
            if (poolSize < 2) {
                throw new IllegalArgumentException("the PostgreSQL pool needs at least 2 connections (writer + reader)");
            }
        }
    }

    private final HikariDataSource pool;
    private final GroupCommitWriter writer;
    private final Function<List<byte[]>, byte[]> merger;
    private final ExecutorService compactions = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean closed;

    /**
     * Applies migrations, opens the pool and starts the writer.
     *
     * @param merger      merges updates in sequence order into one (compaction)
     * @param commitNanos told the duration of each group commit, for metrics
     */
    public static PostgresStore open(Config config, Function<List<byte[]>, byte[]> merger, LongConsumer commitNanos) {
        try {
            return new PostgresStore(config, merger, commitNanos);
        } catch (SQLException | RuntimeException e) {
            throw new StoreException("cannot open PostgreSQL " + config.url() + ": " + e.getMessage(), e);
        }
    }

    private PostgresStore(Config config, Function<List<byte[]>, byte[]> merger, LongConsumer commitNanos)
            throws SQLException {
        this.merger = merger;
        Migrations.apply(config.url(), config.user(), config.password(), Migrations.Dialect.POSTGRESQL);
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(config.url());
        hikari.setUsername(config.user());
        hikari.setPassword(config.password());
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setPoolName("collab-postgres");
        hikari.setConnectionTimeout(5_000);
        // an unreachable database fails the pool's start fast instead of hanging the server's start
        hikari.setInitializationFailTimeout(10_000);
        this.pool = new HikariDataSource(hikari);
        this.writer = new GroupCommitWriter("postgres-writer", pool.getConnection(), pool::getConnection, MAX_BATCH,
                commitNanos);
    }

    // ---- reads -------------------------------------------------------------------------------------------

    private interface Read<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T read(Read<T> read) {
        try (Connection c = pool.getConnection()) {
            return read.run(c);
        } catch (SQLException e) {
            throw new StoreException("read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public DocumentHead head(String documentId) {
        return heads(List.of(documentId)).get(documentId);
    }

    @Override
    public Map<String, DocumentHead> heads(Collection<String> documentIds) {
        Map<String, DocumentHead> out = new LinkedHashMap<>();
        for (String id : documentIds) {
            out.put(id, DocumentHead.EMPTY);
        }
        if (documentIds.isEmpty()) {
            return out;
        }
        return read(c -> {
            Array ids = c.createArrayOf("text", documentIds.toArray());
            try (PreparedStatement ps = c.prepareStatement("SELECT d.id,"
                    + " (SELECT COALESCE(MAX(version) + 1, 0) FROM pm_steps s WHERE s.document_id = d.id),"
                    + " d.update_seq,"
                    + " (SELECT COUNT(*) FROM yjs_updates u WHERE u.document_id = d.id),"
                    + " (SELECT COALESCE(SUM(LENGTH(data)), 0) FROM yjs_updates u WHERE u.document_id = d.id),"
                    + " d.kind FROM documents d WHERE d.id = ANY(?)")) {
                ps.setArray(1, ids);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1),
                                new DocumentHead(rs.getInt(2), rs.getLong(3), rs.getInt(4), rs.getLong(5),
                                        DocumentKind.of(rs.getString(6))));
                    }
                }
            }
            return out;
        });
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
            + " + (SELECT COALESCE(SUM(OCTET_LENGTH(step)), 0) FROM pm_steps WHERE document_id = d.id),"
            + " d.kind FROM documents d";

    @Override
    public Optional<DocumentInfo> document(String documentId) {
        return read(c -> SqlStatements.document(c, DOCUMENT_INFO, documentId));
    }

    @Override
    public List<DocumentInfo> documents(String prefix, String afterId, int limit) {
        return read(c -> {
            // COLLATE "C": byte order, the order the contract promises whatever the database's locale
            try (PreparedStatement ps = c.prepareStatement(DOCUMENT_INFO
                    + " WHERE d.id COLLATE \"C\" > ? AND left(d.id, ?) = ? ORDER BY d.id COLLATE \"C\" LIMIT ?")) {
                ps.setString(1, afterId == null ? "" : afterId);
                ps.setInt(2, prefix.length());
                ps.setString(3, prefix);
                ps.setInt(4, limit);
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
    public CompletableFuture<Void> saveSnapshot(String documentId, int version, String docJson) {
        return writer.submit(documentId, s -> {
            SqlStatements.saveSnapshot(s, documentId, version, docJson);
            return null;
        });
    }

    @Override
    public CompletableFuture<Boolean> delete(String documentId) {
        return writer.submit(documentId, s -> SqlStatements.delete(s, documentId));
    }

    @Override
    public boolean isHealthy() {
        if (closed || !writer.isRunning()) {
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
        return writer.submit(documentId, s -> {
            // the first write fixes the kind; one of the other kind is refused (the savepoint drops it)
            PreparedStatement doc = s.prepare("INSERT INTO documents(id, created_at, updated_at, kind)"
                    + " VALUES (?, ?, ?, 'steps') ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at,"
                    + " kind = COALESCE(documents.kind, excluded.kind) RETURNING kind");
            long now = System.currentTimeMillis();
            doc.setString(1, documentId);
            doc.setLong(2, now);
            doc.setLong(3, now);
            try (ResultSet rs = doc.executeQuery()) {
                rs.next();
                if (DocumentKind.of(rs.getString(1)) != DocumentKind.STEPS) {
                    throw new DocumentKindException(documentId, DocumentKind.of(rs.getString(1)));
                }
            }
            PreparedStatement ps = s.prepare("INSERT INTO pm_steps(document_id, version, step, client_id, created_at)"
                    + " SELECT ?, ? + n - 1, step, ?, ? FROM unnest(?::text[]) WITH ORDINALITY AS t(step, n)");
            ps.setString(1, documentId);
            ps.setInt(2, firstVersion);
            ps.setString(3, clientId);
            ps.setLong(4, now);
            ps.setArray(5, s.connection().createArrayOf("text", stepsJson.toArray()));
            try {
                ps.executeUpdate();
            } catch (SQLException e) {
                if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
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
            // creates the document or takes its next number, under the row lock held until commit
            // no row back: the document holds steps (the savepoint drops the counter's increment)
            PreparedStatement ps = s.prepare("WITH next AS (INSERT INTO documents(id, created_at, updated_at,"
                    + " update_seq, kind) VALUES (?, ?, ?, 1, 'yjs') ON CONFLICT (id) DO UPDATE SET update_seq ="
                    + " documents.update_seq + 1, updated_at = excluded.updated_at,"
                    + " kind = COALESCE(documents.kind, excluded.kind) RETURNING update_seq, kind)"
                    + " INSERT INTO yjs_updates(document_id, seq, data, created_at)"
                    + " SELECT ?, update_seq, ?, ? FROM next WHERE kind = 'yjs' RETURNING seq");
            long now = System.currentTimeMillis();
            ps.setString(1, documentId);
            ps.setLong(2, now);
            ps.setLong(3, now);
            ps.setString(4, documentId);
            ps.setBytes(5, update);
            ps.setLong(6, now);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new DocumentKindException(documentId, DocumentKind.STEPS);
                }
                return rs.getLong(1);
            }
        });
    }

    /**
     * Merges the stored rows with seq <= {@code upToSeq} into one at the last of them, unless another node is
     * compacting this document (then it returns having done nothing: that node's merge covers the same rows).
     * {@code merged} is not used: the rows read inside the transaction are the truth.
     */
    @Override
    public CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged) {
        return CompletableFuture.runAsync(() -> {
            try (Connection c = pool.getConnection()) {
                c.setAutoCommit(false);
                try {
                    compactIn(c, documentId, upToSeq);
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            } catch (SQLException e) {
                throw new StoreException("compaction failed: " + e.getMessage(), e);
            }
        }, compactions);
    }

    private void compactIn(Connection c, String documentId, long upToSeq) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('compact:' || ?, 0))")) {
            lock.setString(1, documentId);
            try (ResultSet rs = lock.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
            }
        }
        List<StoredUpdate> rows = SqlStatements.updates(c, documentId, Long.MIN_VALUE, upToSeq, Integer.MAX_VALUE);
        if (rows.size() < 2) {
            return;
        }
        byte[] result = merger.apply(rows.stream().map(StoredUpdate::data).toList());
        long last = rows.get(rows.size() - 1).seq();
        try (PreparedStatement del = c.prepareStatement(
                "DELETE FROM yjs_updates WHERE document_id = ? AND seq = ANY(?)")) {
            del.setString(1, documentId);
            del.setArray(2, c.createArrayOf("bigint", rows.stream().map(StoredUpdate::seq).toArray()));
            del.executeUpdate();
        }
        try (PreparedStatement ins = c.prepareStatement(
                "INSERT INTO yjs_updates(document_id, seq, data, created_at) VALUES (?, ?, ?, ?)")) {
            ins.setString(1, documentId);
            ins.setLong(2, last);
            ins.setBytes(3, result);
            ins.setLong(4, System.currentTimeMillis());
            ins.executeUpdate();
        }
        LOG.log(System.Logger.Level.DEBUG, "compacted {0}: {1} rows up to {2}", documentId, rows.size(), last);
    }

    @Override
    public String toString() {
        return pool.getJdbcUrl();
    }

    /** Finishes every queued write and compaction, then closes the pool. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        writer.close();
        compactions.close();
        pool.close();
    }
}
