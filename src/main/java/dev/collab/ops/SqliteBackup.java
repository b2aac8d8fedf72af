package dev.collab.ops;

import dev.collab.config.ConfigError;
import dev.collab.config.Settings;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * {@code ./collab backup FILE [--db PATH]}: a consistent copy of the SQLite database, taken while the server runs.
 * It opens the database file itself (no server round trip, no admin token; it works just as well with the server
 * stopped) and runs {@code VACUUM INTO}, which copies the database as of one read transaction: every change
 * committed — so every change acknowledged — before the copy started is in it, nothing half-written is. In WAL mode
 * the server keeps writing meanwhile. The copy is written next to FILE, checked with {@code PRAGMA
 * integrity_check}, synced and renamed into place, so FILE is either a whole, checked copy or absent.
 */
public final class SqliteBackup {
    private SqliteBackup() {
    }

    public static void main(String[] args) {
        Path target = null;
        Path db = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--db") && i + 1 < args.length) {
                db = Path.of(args[++i]);
            } else if (args[i].startsWith("--db=")) {
                db = Path.of(args[i].substring("--db=".length()));
            } else if (target == null && !args[i].startsWith("-")) {
                target = Path.of(args[i]);
            } else {
                exit(2, "usage: ./collab backup FILE [--db PATH]  (unknown argument '" + args[i] + "')");
            }
        }
        if (target == null) {
            exit(2, "usage: ./collab backup FILE [--db PATH]  (the database is COLLAB_DB_PATH unless --db is given)");
        }
        try {
            if (db == null) {
                db = Settings.load().storage().dbPath();
            }
            long bytes = backup(db, target);
            System.out.println("collab: backup of " + db.toAbsolutePath() + " written to " + target.toAbsolutePath()
                    + " (" + bytes + " bytes, integrity_check ok)");
        } catch (ConfigError e) {
            exit(2, e.getMessage());
        } catch (IllegalStateException e) {
            exit(1, e.getMessage());
        }
    }

    /** Copies {@code db} into {@code target} (which must not exist); returns the copy's size. */
    public static long backup(Path db, Path target) {
        if (!Files.isRegularFile(db)) {
            throw new IllegalStateException("no database at " + db.toAbsolutePath());
        }
        if (Files.exists(target)) {
            throw new IllegalStateException(target + " already exists; a backup never overwrites a file");
        }
        Path dir = target.toAbsolutePath().getParent();
        Path partial = dir.resolve(target.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(dir);
            java.util.Properties options = new java.util.Properties();
            options.setProperty("busy_timeout", "30000");   // the server's writer holds its lock only briefly
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath(), options);
                 PreparedStatement vacuum = c.prepareStatement("VACUUM INTO ?")) {
                vacuum.setString(1, partial.toString());
                vacuum.execute();
            }
            String check = integrityCheck(partial);
            if (!"ok".equals(check)) {
                throw new IllegalStateException("the copy failed PRAGMA integrity_check: " + check);
            }
            try (FileChannel f = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                f.force(true);
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);      // the rename itself survives a crash
            } catch (IOException ignored) {
                // not every file system lets a directory be synced; the copy is complete either way
            }
            return Files.size(target);
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("backup of " + db + " failed: " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // best effort: a leftover .partial file is named as such
            }
        }
    }

    /** {@code PRAGMA integrity_check} of a database file: "ok", or SQLite's first complaint. */
    public static String integrityCheck(Path file) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
             Statement s = c.createStatement();
             ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
            return r.next() ? r.getString(1) : "no answer";
        }
    }

    private static void exit(int status, String message) {
        System.err.println("collab: " + message);
        System.exit(status);
    }
}
