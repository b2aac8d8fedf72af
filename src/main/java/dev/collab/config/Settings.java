package dev.collab.config;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import dev.collab.store.sqlite.SqliteStore;
import dev.collab.transport.AllowedOrigins;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The server's settings: {@code application.yaml} on the classpath, each key overridable by an environment
 * variable named after it (upper case, '.' and '-' as '_'). Values are validated once, at startup.
 */
public record Settings(
        int port,
        String host,
        Path dbPath,
        String sqliteSynchronous,
        String adminToken,
        int maxMessageBytes,
        long outboundQueueBytes,
        Duration roomIdleUnload,
        Duration pingInterval,
        int compactionUpdates,
        long compactionBytes,
        int stepsBatch,
        Path webDir,
        String authSecret,
        List<String> allowedOrigins,
        int maxConnectionsPerDocument,
        int maxConnectionsPerIp,
        int maxDocumentsPerSocket,
        int messagesPerSecond,
        Duration authTimeout,
        List<String> trustedProxies,
        String logLevel,
        String logFormat,
        String internalToken,
        long maxDocumentBytes) {

    /** The values of collab.log-format. */
    public static final List<String> LOG_FORMATS = List.of("text", "json");

    public Settings {
        if (port < 0 || port > 65535) {
            throw ConfigError.of("server.port", "must be a port number 0..65535 (0 picks a free one)",
                    String.valueOf(port));
        }
        if (Arrays.stream(SqliteStore.Synchronous.values()).noneMatch(v -> v.name().equals(sqliteSynchronous))) {
            throw ConfigError.of("collab.sqlite-synchronous", "must be one of NORMAL, FULL, EXTRA, OFF",
                    sqliteSynchronous);
        }
        logLevel = Logging.parseLevel(logLevel).getName();
        if (!LOG_FORMATS.contains(logFormat)) {
            throw ConfigError.of("collab.log-format", "must be one of " + String.join(", ", LOG_FORMATS), logFormat);
        }
        // HS256 needs a key of at least 256 bits (checked here so a bad secret stops the start before the database)
        if (authSecret != null && !authSecret.isEmpty()
                && authSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw ConfigError.of("collab.auth-secret", "must be at least 32 bytes (HS256), or empty for an open"
                    + " server; it has " + authSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, null);
        }
        requireUsableDatabasePath(dbPath);
        require(maxMessageBytes >= 1024, "collab.max-message-bytes must be at least 1024");
        require(outboundQueueBytes >= maxMessageBytes, "collab.outbound-queue-bytes must be >= max-message-bytes");
        require(compactionUpdates >= 2, "collab.compaction-updates must be at least 2");
        require(stepsBatch >= 1, "collab.steps-batch must be at least 1");
        require(!pingInterval.isNegative() && !pingInterval.isZero(), "collab.ping-interval-seconds must be > 0");
        require(maxConnectionsPerDocument >= 1, "collab.max-connections-per-document must be at least 1");
        require(maxConnectionsPerIp >= 1, "collab.max-connections-per-ip must be at least 1");
        require(maxDocumentsPerSocket >= 1, "collab.max-documents-per-socket must be at least 1");
        require(messagesPerSecond >= 1, "collab.messages-per-second must be at least 1");
        require(maxDocumentBytes >= 1024, "collab.max-document-bytes must be at least 1024");
        try {
            allowedOrigins = AllowedOrigins.parse(allowedOrigins).entries();  // normal form; bad entries stop here
        } catch (IllegalArgumentException e) {
            throw new ConfigError(envName("collab.allowed-origins") + " (collab.allowed-origins) " + e.getMessage());
        }
        trustedProxies = List.copyOf(trustedProxies);
    }

    /** {@code message} starts with the YAML key ("collab.x must ..."); the error names its variable first. */
    private static void require(boolean ok, String message) {
        if (!ok) {
            int space = message.indexOf(' ');
            throw ConfigError.of(message.substring(0, space), message.substring(space + 1), null);
        }
    }

    /** Refuses a database path that cannot be created: an existing ancestor that is not a directory. */
    private static void requireUsableDatabasePath(Path dbPath) {
        if (Files.isDirectory(dbPath)) {
            throw ConfigError.of("collab.db-path", "must name a file, not a directory", dbPath.toString());
        }
        for (Path p = dbPath.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw ConfigError.of("collab.db-path", "must be a path under a directory, but " + p
                            + " is a file", dbPath.toString());
                }
                return;
            }
        }
    }

    /** Settings from application.yaml overridden by the process environment. */
    public static Settings load() {
        return load(System.getenv());
    }

    public static Settings load(Map<String, String> env) {
        Function<String, String> get = lookup(env);
        return new Settings(
                parseInt(get, "server.port"),
                get.apply("server.host"),
                Path.of(get.apply("collab.db-path")),
                get.apply("collab.sqlite-synchronous").toUpperCase(Locale.ROOT),
                get.apply("collab.admin-token"),
                parseInt(get, "collab.max-message-bytes"),
                parseLong(get, "collab.outbound-queue-bytes"),
                Duration.ofMillis(parseLong(get, "collab.room-idle-unload-ms")),
                Duration.ofSeconds(parseLong(get, "collab.ping-interval-seconds")),
                parseInt(get, "collab.compaction-updates"),
                parseLong(get, "collab.compaction-bytes"),
                parseInt(get, "collab.steps-batch"),
                Path.of(get.apply("collab.web-dir")),
                get.apply("collab.auth-secret"),
                list(get.apply("collab.allowed-origins")),
                parseInt(get, "collab.max-connections-per-document"),
                parseInt(get, "collab.max-connections-per-ip"),
                parseInt(get, "collab.max-documents-per-socket"),
                parseInt(get, "collab.messages-per-second"),
                Duration.ofSeconds(parseLong(get, "collab.auth-timeout-seconds")),
                list(get.apply("collab.trusted-proxies")),
                get.apply("collab.log-level"),
                get.apply("collab.log-format").toLowerCase(Locale.ROOT),
                get.apply("collab.internal-token"),
                parseLong(get, "collab.max-document-bytes"));
    }

    /** A key's value: its environment variable when set, else application.yaml's. */
    static Function<String, String> lookup(Map<String, String> env) {
        Config yaml = Config.just(ConfigSources.classpath("application.yaml"));
        return key -> {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) {
                return fromEnv.trim();
            }
            return yaml.get(key).asString().orElseThrow(() -> new IllegalStateException("missing setting " + key));
        };
    }

    /** server.port -> SERVER_PORT, collab.db-path -> COLLAB_DB_PATH. */
    public static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    static List<String> list(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    static int parseInt(Function<String, String> get, String key) {
        long v = parseLong(get, key);
        if (v != (int) v) {
            throw ConfigError.of(key, "is out of range", String.valueOf(v));
        }
        return (int) v;
    }

    /** The environment variables of every key in application.yaml: what the server knows. */
    public static List<String> variables() {
        return Config.just(ConfigSources.classpath("application.yaml")).traverse()
                .filter(Config::isLeaf).map(c -> envName(c.key().toString())).sorted().toList();
    }

    static long parseLong(Function<String, String> get, String key) {
        String v = get.apply(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ConfigError.of(key, "must be a whole number", v);
        }
    }

    public boolean authEnabled() {
        return authSecret != null && !authSecret.isEmpty();
    }

    /**
     * The bearer token for {@code /internal/*} (the backends' broadcast key): COLLAB_INTERNAL_TOKEN, or the admin
     * token when that is unset, so a backend need not hold the operator's admin token.
     */
    public String internalApiToken() {
        return internalToken != null && !internalToken.isEmpty() ? internalToken : adminToken;
    }

    public boolean adminEnabled() {
        return adminToken != null && !adminToken.isEmpty();
    }
}
