package dev.collab;

import dev.collab.config.ClusterSettings;
import dev.collab.config.Logging;
import dev.collab.store.postgres.SqliteImport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;

/**
 * {@code ./collab import-sqlite FILE}: copies a single node's SQLite database into the PostgreSQL that
 * {@code COLLAB_POSTGRES_URL} / {@code _USER} / {@code _PASSWORD} name (see {@link SqliteImport}). One summary line
 * on stdout; errors are one {@code collab:} line on stderr (exit 2 for usage, 1 when a database cannot be used).
 */
public final class ImportSqlite {
    private ImportSqlite() {
    }

    public static void main(String[] args) {
        Logging.configure("warn", "text");
        if (args.length != 1 || args[0].startsWith("-")) {
            exit(2, "usage: ./collab import-sqlite FILE  (FILE: a node's SQLite database; the target is"
                    + " COLLAB_POSTGRES_URL, COLLAB_POSTGRES_USER, COLLAB_POSTGRES_PASSWORD)");
        }
        Path file = Path.of(args[0]);
        if (!Files.isRegularFile(file)) {
            exit(2, file + " is not a file (give the SQLite database of a node, its COLLAB_DB_PATH)");
        }
        ClusterSettings cluster;
        try {
            cluster = ClusterSettings.load();
        } catch (IllegalArgumentException e) {
            throw exit(2, e.getMessage());
        }
        try {
            SqliteImport.Result r = SqliteImport.run(file, cluster.postgresUrl(), cluster.postgresUser(),
                    cluster.postgresPassword());
            System.out.println("collab: imported " + r.documents() + " documents (" + r.updates() + " Yjs updates, "
                    + r.steps() + " steps, " + r.snapshots() + " snapshots) from " + file.toAbsolutePath() + " into "
                    + cluster.postgresUrl() + (r.skipped().isEmpty() ? "" : "; " + r.skipped().size()
                    + " already in PostgreSQL, left alone: " + String.join(", ", r.skipped())));
        } catch (SQLException | RuntimeException e) {
            throw exit(1, "import of " + file + " into " + cluster.postgresUrl() + " (COLLAB_POSTGRES_URL) failed: "
                    + CannotConnect.reason(e) + " (documents copied before the failure stay; run it again to go on)");
        }
    }

    private static RuntimeException exit(int status, String message) {
        System.err.println("collab: " + message);
        System.err.flush();
        System.exit(status);
        return new IllegalStateException("unreachable");
    }
}
