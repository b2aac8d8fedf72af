package dev.collab.store.postgres;

import dev.collab.store.Migrations;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies one node's SQLite history into PostgreSQL ({@code ./collab import-sqlite FILE}): every document with its
 * Yjs update log (sequence numbers kept, the document's counter set to the last one, so the next append continues
 * it), its ProseMirror steps (versions kept), its snapshot, its kind and times. The SQLite file is read in one
 * read transaction, so a node still writing to it yields a consistent copy as of that moment. Each document is
 * copied in a transaction of its own and only if PostgreSQL does not know it yet: a second run imports nothing
 * twice, and a document some node has already written to in PostgreSQL is left alone (and listed).
 */
public final class SqliteImport {
    private static final int BATCH = 500;

    /** What was copied; {@code skipped}: documents PostgreSQL already had. */
    public record Result(int documents, long updates, long steps, int snapshots, List<String> skipped) {
    }

    private SqliteImport() {
    }

    /** Migrates both databases to the current schema (the SQLite file as its node would at start-up), then copies. */
    public static Result run(Path sqliteFile, String postgresUrl, String user, String password) throws SQLException {
        String sqliteUrl = "jdbc:sqlite:" + sqliteFile.toAbsolutePath();
        Migrations.apply(sqliteUrl, null, null, Migrations.Dialect.SQLITE);
        Migrations.apply(postgresUrl, user, password, Migrations.Dialect.POSTGRESQL);
        try (Connection from = DriverManager.getConnection(sqliteUrl);
             Connection to = DriverManager.getConnection(postgresUrl, user, password)) {
            from.setAutoCommit(false);        // one read transaction: a consistent snapshot of the file
            to.setAutoCommit(false);
            int documents = 0;
            int snapshots = 0;
            long updates = 0;
            long steps = 0;
            List<String> skipped = new ArrayList<>();
            try (PreparedStatement docs = from.prepareStatement("SELECT d.id, d.created_at, d.updated_at, d.kind,"
                    + " MAX(COALESCE((SELECT MAX(seq) FROM yjs_updates u WHERE u.document_id = d.id), 0),"
                    + " COALESCE((SELECT upto_seq FROM yjs_states s WHERE s.document_id = d.id), 0))"
                    + " FROM documents d ORDER BY d.id");
                 ResultSet rs = docs.executeQuery()) {
                while (rs.next()) {
                    String id = rs.getString(1);
                    if (!insertDocument(to, id, rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getLong(5))) {
                        to.rollback();
                        skipped.add(id);
                        continue;
                    }
                    updates += copyUpdates(from, to, id);
                    steps += copySteps(from, to, id);
                    snapshots += copySnapshot(from, to, id);
                    to.commit();
                    documents++;
                }
            }
            from.rollback();
            return new Result(documents, updates, steps, snapshots, skipped);
        }
    }

    private static boolean insertDocument(Connection to, String id, long created, long updated, String kind, long seq)
            throws SQLException {
        try (PreparedStatement ps = to.prepareStatement("INSERT INTO documents(id, created_at, updated_at, update_seq,"
                + " kind) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
            ps.setString(1, id);
            ps.setLong(2, created);
            ps.setLong(3, updated);
            ps.setLong(4, seq);
            ps.setString(5, kind);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * The document's compacted state (stored in parts, see the SQLite V4 migration) as one row at the seq it covers
     * up to, then the update rows after it (rows it covers may still be there, waiting to be deleted).
     */
    private static long copyUpdates(Connection from, Connection to, String id) throws SQLException {
        long after = 0;
        long copied = 0;
        try (PreparedStatement state = from.prepareStatement(
                "SELECT generation, upto_seq, created_at FROM yjs_states WHERE document_id = ?")) {
            state.setString(1, id);
            try (ResultSet rs = state.executeQuery()) {
                if (rs.next()) {
                    after = rs.getLong(2);
                    insertUpdate(to, id, after, stateBytes(from, id, rs.getLong(1)), rs.getLong(3));
                    copied = 1;
                }
            }
        }
        try (PreparedStatement read = from.prepareStatement(
                "SELECT seq, data, created_at FROM yjs_updates WHERE document_id = ? AND seq > ? ORDER BY seq");
             PreparedStatement write = to.prepareStatement(
                     "INSERT INTO yjs_updates(document_id, seq, data, created_at) VALUES (?, ?, ?, ?)")) {
            read.setString(1, id);
            read.setLong(2, after);
            return copied + copyRows(read, write, id, (rs, w) -> {
                w.setLong(2, rs.getLong(1));
                w.setBytes(3, rs.getBytes(2));
                w.setLong(4, rs.getLong(3));
            });
        }
    }

    private static byte[] stateBytes(Connection from, String id, long generation) throws SQLException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (PreparedStatement parts = from.prepareStatement(
                "SELECT data FROM yjs_state_parts WHERE document_id = ? AND generation = ? ORDER BY part")) {
            parts.setString(1, id);
            parts.setLong(2, generation);
            try (ResultSet rs = parts.executeQuery()) {
                while (rs.next()) {
                    out.writeBytes(rs.getBytes(1));
                }
            }
        }
        return out.toByteArray();
    }

    private static void insertUpdate(Connection to, String id, long seq, byte[] data, long createdAt)
            throws SQLException {
        try (PreparedStatement ps = to.prepareStatement(
                "INSERT INTO yjs_updates(document_id, seq, data, created_at) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setLong(2, seq);
            ps.setBytes(3, data);
            ps.setLong(4, createdAt);
            ps.executeUpdate();
        }
    }

    private static long copySteps(Connection from, Connection to, String id) throws SQLException {
        try (PreparedStatement read = from.prepareStatement(
                "SELECT version, step, client_id, created_at FROM pm_steps WHERE document_id = ? ORDER BY version");
             PreparedStatement write = to.prepareStatement("INSERT INTO pm_steps(document_id, version, step,"
                     + " client_id, created_at) VALUES (?, ?, ?, ?, ?)")) {
            read.setString(1, id);
            return copyRows(read, write, id, (rs, w) -> {
                w.setInt(2, rs.getInt(1));
                w.setString(3, rs.getString(2));
                w.setString(4, rs.getString(3));
                w.setLong(5, rs.getLong(4));
            });
        }
    }

    private static int copySnapshot(Connection from, Connection to, String id) throws SQLException {
        try (PreparedStatement read = from.prepareStatement(
                "SELECT version, doc, created_at FROM pm_snapshots WHERE document_id = ?");
             PreparedStatement write = to.prepareStatement(
                     "INSERT INTO pm_snapshots(document_id, version, doc, created_at) VALUES (?, ?, ?, ?)")) {
            read.setString(1, id);
            return (int) copyRows(read, write, id, (rs, w) -> {
                w.setInt(2, rs.getInt(1));
                w.setString(3, rs.getString(2));
                w.setLong(4, rs.getLong(3));
            });
        }
    }

    private interface Columns {
        void set(ResultSet from, PreparedStatement to) throws SQLException;
    }

    private static long copyRows(PreparedStatement read, PreparedStatement write, String id, Columns columns)
            throws SQLException {
        long n = 0;
        try (ResultSet rs = read.executeQuery()) {
            while (rs.next()) {
                write.setString(1, id);
                columns.set(rs, write);
                write.addBatch();
                if (++n % BATCH == 0) {
                    write.executeBatch();
                }
            }
        }
        if (n % BATCH != 0) {
            write.executeBatch();
        }
        return n;
    }
}
