package dev.collab.config;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import dev.collab.room.RoomSettings;
import dev.collab.store.sqlite.SqliteStore;
import dev.collab.transport.AllowedOrigins;
import dev.collab.transport.TransportLimits;

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
 * variable named after it (upper case, '.' and '-' as '_'). Values are validated once, at startup, with one-line
 * errors that name the variable. Grouped by who uses them: the listener and pages ({@link Server}), the SQLite
 * store ({@link Storage}), the transport's limits ({@link TransportLimits}), rooms ({@link RoomSettings}), the
 * Hocuspocus adapter ({@link Hocuspocus}), access tokens ({@link Auth}), the admin and internal APIs
 * ({@link Admin}) and logging ({@link Log}); each group goes whole to its user.
 */
public record Settings(
        Server server,
        Storage storage,
        TransportLimits transport,
        RoomSettings rooms,
        Hocuspocus hocuspocus,
        Auth auth,
        Admin admin,
        Log log) {

    /** The values of collab.log-format. */
    public static final List<String> LOG_FORMATS = List.of("text", "json");

    /** server.port, server.host, collab.web-dir. */
    public record Server(int port, String host, Path webDir) {
    }

    /** collab.db-path, collab.sqlite-synchronous (the SQLite store; COLLAB_STORE picks the store, ClusterSettings). */
    public record Storage(Path dbPath, String sqliteSynchronous) {
    }

    /** collab.max-documents-per-socket. */
    public record Hocuspocus(int maxDocumentsPerSocket) {
    }

    /** collab.auth-secret: the HS256 key of access tokens; empty for an open server. */
    public record Auth(String secret) {
        public boolean enabled() {
            return secret != null && !secret.isEmpty();
        }
    }

    /** collab.admin-token, collab.internal-token. */
    public record Admin(String adminToken, String internalToken) {
        public boolean enabled() {
            return adminToken != null && !adminToken.isEmpty();
        }

        /**
         * The bearer token for {@code /internal/*} (the backends' broadcast key): COLLAB_INTERNAL_TOKEN, or the admin
         * token when that is unset, so a backend need not hold the operator's admin token.
         */
        public String internalApiToken() {
            return internalToken != null && !internalToken.isEmpty() ? internalToken : adminToken;
        }
    }

    /** collab.log-level, collab.log-format. */
    public record Log(String level, String format) {
    }

    public Settings {
        if (server.port() < 0 || server.port() > 65535) {
            throw ConfigError.of("server.port", "must be a port number 0..65535 (0 picks a free one)",
                    String.valueOf(server.port()));
        }
        String synchronous = storage.sqliteSynchronous();
        if (Arrays.stream(SqliteStore.Synchronous.values()).noneMatch(v -> v.name().equals(synchronous))) {
            throw ConfigError.of("collab.sqlite-synchronous", "must be one of NORMAL, FULL, EXTRA, OFF", synchronous);
        }
        log = new Log(Logging.parseLevel(log.level()).getName(), log.format());
        if (!LOG_FORMATS.contains(log.format())) {
            throw ConfigError.of("collab.log-format", "must be one of " + String.join(", ", LOG_FORMATS), log.format());
        }
        // HS256 needs a key of at least 256 bits (checked here so a bad secret stops the start before the database)
        String authSecret = auth.secret();
        if (authSecret != null && !authSecret.isEmpty()
                && authSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw ConfigError.of("collab.auth-secret", "must be at least 32 bytes (HS256), or empty for an open"
                    + " server; it has " + authSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, null);
        }
        requireUsableDatabasePath(storage.dbPath());
        require(transport.maxMessageBytes() >= 1024, "collab.max-message-bytes must be at least 1024");
        require(transport.maxQueuedBytes() >= transport.maxMessageBytes(),
                "collab.outbound-queue-bytes must be >= max-message-bytes");
        require(rooms.compactionUpdates() >= 2, "collab.compaction-updates must be at least 2");
        require(rooms.stepsBatch() >= 1, "collab.steps-batch must be at least 1");
        require(!transport.pingInterval().isNegative() && !transport.pingInterval().isZero(),
                "collab.ping-interval-seconds must be > 0");
        require(rooms.maxConnectionsPerDocument() >= 1, "collab.max-connections-per-document must be at least 1");
        require(transport.maxConnectionsPerIp() >= 1, "collab.max-connections-per-ip must be at least 1");
        require(hocuspocus.maxDocumentsPerSocket() >= 1, "collab.max-documents-per-socket must be at least 1");
        require(transport.messagesPerSecond() >= 1, "collab.messages-per-second must be at least 1");
        require(rooms.maxDocumentBytes() >= 1024, "collab.max-document-bytes must be at least 1024");
        List<String> origins;
        try {
            origins = AllowedOrigins.parse(transport.allowedOrigins()).entries();  // normal form; bad entries stop here
        } catch (IllegalArgumentException e) {
            throw new ConfigError(envName("collab.allowed-origins") + " (collab.allowed-origins) " + e.getMessage());
        }
        transport = new TransportLimits(transport.maxMessageBytes(), transport.maxQueuedBytes(),
                transport.pingInterval(), origins, transport.maxConnectionsPerIp(), transport.messagesPerSecond(),
                transport.authTimeout(), transport.trustedProxies());
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
                new Server(parseInt(get, "server.port"), get.apply("server.host"), Path.of(get.apply("collab.web-dir"))),
                new Storage(Path.of(get.apply("collab.db-path")),
                        get.apply("collab.sqlite-synchronous").toUpperCase(Locale.ROOT)),
                new TransportLimits(
                        parseInt(get, "collab.max-message-bytes"),
                        parseLong(get, "collab.outbound-queue-bytes"),
                        Duration.ofSeconds(parseLong(get, "collab.ping-interval-seconds")),
                        list(get.apply("collab.allowed-origins")),
                        parseInt(get, "collab.max-connections-per-ip"),
                        parseInt(get, "collab.messages-per-second"),
                        Duration.ofSeconds(parseLong(get, "collab.auth-timeout-seconds")),
                        list(get.apply("collab.trusted-proxies"))),
                new RoomSettings(
                        Duration.ofMillis(parseLong(get, "collab.room-idle-unload-ms")),
                        parseInt(get, "collab.compaction-updates"),
                        parseLong(get, "collab.compaction-bytes"),
                        parseInt(get, "collab.steps-batch"),
                        parseInt(get, "collab.max-connections-per-document"),
                        parseLong(get, "collab.max-document-bytes")),
                new Hocuspocus(parseInt(get, "collab.max-documents-per-socket")),
                new Auth(get.apply("collab.auth-secret")),
                new Admin(get.apply("collab.admin-token"), get.apply("collab.internal-token")),
                new Log(get.apply("collab.log-level"), get.apply("collab.log-format").toLowerCase(Locale.ROOT)));
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
}
