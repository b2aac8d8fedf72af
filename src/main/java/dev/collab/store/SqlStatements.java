package dev.collab.store;

import dev.collab.store.Store.DocumentInfo;
import dev.collab.store.Store.StoredSnapshot;
import dev.collab.store.Store.StoredStep;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The SQL both SQL stores run alike (SQLite and PostgreSQL agree on it); each store keeps what differs. */
public final class SqlStatements {
    private SqlStatements() {
    }

    /** Reads a row of {@code SELECT id, created_at, updated_at, step version, update count, bytes, kind}. */
    public static DocumentInfo documentInfo(ResultSet rs) throws SQLException {
        return new DocumentInfo(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getInt(4), rs.getInt(5),
                rs.getLong(6), DocumentKind.of(rs.getString(7)));
    }

    /** Runs a prepared metadata query (columns as {@link #documentInfo}) and reads every row. */
    public static List<DocumentInfo> documentInfos(PreparedStatement ps) throws SQLException {
        List<DocumentInfo> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(documentInfo(rs));
            }
        }
        return out;
    }

    /** The document's metadata by a query of {@link #documentInfo}'s columns ending in {@code WHERE d.id = ?}. */
    public static Optional<DocumentInfo> document(Connection c, String infoSql, String documentId)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(infoSql + " WHERE d.id = ?")) {
            ps.setString(1, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(documentInfo(rs)) : Optional.empty();
            }
        }
    }

    /** Updates with {@code afterSeq < seq <= upToSeq} in sequence order, at most {@code limit}. */
    public static List<Store.StoredUpdate> updates(Connection c, String documentId, long afterSeq, long upToSeq,
                                                   int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, data FROM yjs_updates"
                + " WHERE document_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?")) {
            ps.setString(1, documentId);
            ps.setLong(2, afterSeq);
            ps.setLong(3, upToSeq);
            ps.setInt(4, limit);
            List<Store.StoredUpdate> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Store.StoredUpdate(rs.getLong(1), rs.getBytes(2)));
                }
            }
            return out;
        }
    }

    public static List<StoredStep> stepsSince(Connection c, String documentId, int fromVersion, int limit)
            throws SQLException {
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
    }

    public static List<String> untouchedSince(Connection c, long cutoffMillis, int limit) throws SQLException {
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
    }

    public static Optional<StoredSnapshot> snapshot(Connection c, String documentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT version, doc FROM pm_snapshots WHERE document_id = ?")) {
            ps.setString(1, documentId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new StoredSnapshot(rs.getInt(1), rs.getString(2))) : Optional.empty();
            }
        }
    }

    /** Keeps the newest snapshot (an equal version replaces). */
    public static void saveSnapshot(GroupCommitWriter.Statements s, String documentId, int version, String docJson)
            throws SQLException {
        PreparedStatement ps = s.prepare("INSERT INTO pm_snapshots(document_id, version, doc, created_at)"
                + " VALUES (?, ?, ?, ?) ON CONFLICT (document_id) DO UPDATE SET version = excluded.version,"
                + " doc = excluded.doc, created_at = excluded.created_at WHERE excluded.version >= pm_snapshots.version");
        ps.setString(1, documentId);
        ps.setInt(2, version);
        ps.setString(3, docJson);
        ps.setLong(4, System.currentTimeMillis());
        ps.executeUpdate();
    }

    /** Deletes the document and its history; true when it existed. */
    public static boolean delete(GroupCommitWriter.Statements s, String documentId) throws SQLException {
        for (String table : List.of("pm_snapshots", "yjs_updates", "pm_steps")) {
            PreparedStatement ps = s.prepare("DELETE FROM " + table + " WHERE document_id = ?");
            ps.setString(1, documentId);
            ps.executeUpdate();
        }
        PreparedStatement ps = s.prepare("DELETE FROM documents WHERE id = ?");
        ps.setString(1, documentId);
        return ps.executeUpdate() > 0;
    }
}
