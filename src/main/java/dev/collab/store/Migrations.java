package dev.collab.store;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies the versioned SQL scripts {@code db/migrations/<dialect>/V<n>__<name>.sql} with Flyway, each in its own
 * transaction, recorded in {@code flyway_schema_history}; scripts already applied are skipped. A database made
 * before Flyway (its own {@code schema_version} table) is baselined at the version that table records, so it keeps
 * opening without manual steps.
 */
public final class Migrations {
    private static final System.Logger LOG = System.getLogger(Migrations.class.getName());
    static final String LEGACY_TABLE = "schema_version";

    /** The SQL dialects with their own scripts. */
    public enum Dialect {
        SQLITE("sqlite"), POSTGRESQL("postgresql");

        private final String directory;

        Dialect(String directory) {
            this.directory = directory;
        }

        public String location() {
            return "classpath:db/migrations/" + directory;
        }
    }

    private Migrations() {
    }

    /** Applies the shipped scripts of {@code dialect}; returns how many were applied. */
    public static int apply(String url, String user, String password, Dialect dialect) {
        return apply(url, user, password, List.of(dialect.location()));
    }

    /** Applies the scripts found at {@code locations} (Flyway locations: classpath: or filesystem:). */
    public static int apply(String url, String user, String password, List<String> locations) {
        int legacyVersion = legacyVersion(url, user, password);
        var config = Flyway.configure()
                .dataSource(url, user, password)
                .locations(locations.toArray(String[]::new))
                .validateMigrationNaming(true);
        if (legacyVersion > 0) {
            config.baselineOnMigrate(true).baselineVersion(Integer.toString(legacyVersion))
                    .baselineDescription("applied before Flyway (" + LEGACY_TABLE + ")");
        }
        MigrateResult result = config.load().migrate();
        if (result.migrationsExecuted > 0) {
            LOG.log(System.Logger.Level.INFO, "applied {0} migration(s), schema now at version {1}",
                    result.migrationsExecuted, result.targetSchemaVersion);
        }
        return result.migrationsExecuted;
    }

    /** The version the pre-Flyway runner recorded, or 0 when there is no such table (or Flyway already took over). */
    private static int legacyVersion(String url, String user, String password) {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            if (!hasTable(c, LEGACY_TABLE) || hasTable(c, "flyway_schema_history")) {
                return 0;
            }
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM " + LEGACY_TABLE)) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        } catch (SQLException e) {
            throw new Store.StoreException("cannot read the schema version: " + e.getMessage(), e);
        }
    }

    private static boolean hasTable(Connection c, String table) throws SQLException {
        List<String> found = new ArrayList<>();
        try (ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                found.add(rs.getString("TABLE_NAME"));
            }
        }
        return found.stream().anyMatch(table::equalsIgnoreCase);
    }
}
