package dev.collab.store;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Applies the versioned SQL scripts {@code db/migrations/V<n>__<name>.sql} in order, each in its own transaction,
 * and records them in {@code schema_version}. Scripts already recorded are skipped, so re-running is a no-op.
 */
final class Migrations {
    private static final System.Logger LOG = System.getLogger(Migrations.class.getName());
    private static final Pattern NAME = Pattern.compile("V(\\d+)__(.+)\\.sql");
    static final String LOCATION = "db/migrations";

    record Migration(int version, String name, String sql) {
    }

    private Migrations() {
    }

    /** Applies pending migrations; returns how many were applied. */
    static int apply(Connection c, List<Migration> migrations) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    + " applied_at INTEGER NOT NULL)");
        }
        int current = 0;
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            if (rs.next()) {
                current = rs.getInt(1);
            }
        }
        int applied = 0;
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            for (Migration m : migrations) {
                if (m.version() <= current) {
                    continue;
                }
                try (Statement st = c.createStatement()) {
                    for (String statement : splitStatements(m.sql())) {
                        st.execute(statement);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO schema_version(version, name, applied_at) VALUES (?, ?, ?)")) {
                    ps.setInt(1, m.version());
                    ps.setString(2, m.name());
                    ps.setLong(3, System.currentTimeMillis());
                    ps.executeUpdate();
                }
                c.commit();
                applied++;
                LOG.log(System.Logger.Level.INFO, "applied migration V{0} {1}", m.version(), m.name());
            }
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        return applied;
    }

    /** Splits on ';' at line ends, dropping '--' comments (our scripts hold no semicolons inside strings). */
    static List<String> splitStatements(String sql) {
        StringBuilder clean = new StringBuilder();
        for (String line : sql.split("\n")) {
            int comment = line.indexOf("--");
            clean.append(comment >= 0 ? line.substring(0, comment) : line).append('\n');
        }
        List<String> out = new ArrayList<>();
        for (String part : clean.toString().split(";")) {
            if (!part.isBlank()) {
                out.add(part.trim());
            }
        }
        return out;
    }

    /** The scripts shipped on the classpath (inside the jar, or target/classes in development), sorted by version. */
    static List<Migration> fromClasspath() {
        URL url = Migrations.class.getClassLoader().getResource(LOCATION);
        if (url == null) {
            throw new IllegalStateException("no " + LOCATION + " on the classpath");
        }
        try {
            URI uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                try (FileSystem fs = FileSystems.newFileSystem(uri, Map.of())) {
                    return read(fs.getPath(LOCATION));
                }
            }
            return read(Path.of(uri));
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot read migrations from " + url, e);
        }
    }

    private static List<Migration> read(Path dir) throws IOException {
        List<Migration> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    try (InputStream in = Files.newInputStream(p)) {
                        out.add(new Migration(Integer.parseInt(m.group(1)), m.group(2),
                                new String(in.readAllBytes(), StandardCharsets.UTF_8)));
                    }
                }
            }
        }
        out.sort(Comparator.comparingInt(Migration::version));
        return out;
    }
}
