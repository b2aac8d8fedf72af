package dev.collab.config;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import java.util.Locale;
import java.util.Map;

/**
 * Which store and bus the node uses, and its name: the settings for running several nodes on PostgreSQL and
 * Redis. Read like {@link Settings} (application.yaml, overridden by the environment); the defaults need neither.
 */
public record ClusterSettings(String store, String postgresUrl, String postgresUser, String postgresPassword,
                              int postgresPoolSize, String bus, String redisUrl, String nodeId) {

    public static final String SQLITE = "sqlite";
    public static final String POSTGRES = "postgres";
    public static final String NO_BUS = "none";
    public static final String REDIS = "redis";

    public ClusterSettings {
        store = store.toLowerCase(Locale.ROOT);
        bus = bus.toLowerCase(Locale.ROOT);
        if (!store.equals(SQLITE) && !store.equals(POSTGRES)) {
            throw new IllegalArgumentException("collab.store (COLLAB_STORE) must be sqlite or postgres, got '" + store + "'");
        }
        if (!bus.equals(NO_BUS) && !bus.equals(REDIS)) {
            throw new IllegalArgumentException("collab.bus (COLLAB_BUS) must be none or redis, got '" + bus + "'");
        }
        if (bus.equals(REDIS) && !store.equals(POSTGRES)) {
            throw new IllegalArgumentException("COLLAB_BUS=redis needs COLLAB_STORE=postgres: nodes share documents"
                    + " only through a shared store");
        }
        if (postgresPoolSize < 2) {
            throw new IllegalArgumentException("collab.postgres-pool-size (COLLAB_POSTGRES_POOL_SIZE) must be at least 2");
        }
    }

    public static ClusterSettings load() {
        return load(System.getenv());
    }

    public static ClusterSettings load(Map<String, String> env) {
        Config yaml = Config.just(ConfigSources.classpath("application.yaml"));
        java.util.function.Function<String, String> get = key -> {
            String fromEnv = env.get(Settings.envName(key));
            if (fromEnv != null) {
                return fromEnv.trim();
            }
            return yaml.get(key).asString().orElseThrow(() -> new IllegalStateException("missing setting " + key));
        };
        String pool = get.apply("collab.postgres-pool-size");
        int poolSize;
        try {
            poolSize = Integer.parseInt(pool);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("COLLAB_POSTGRES_POOL_SIZE must be a whole number, got '" + pool + "'");
        }
        return new ClusterSettings(get.apply("collab.store"), get.apply("collab.postgres-url"),
                get.apply("collab.postgres-user"), get.apply("collab.postgres-password"), poolSize,
                get.apply("collab.bus"), get.apply("collab.redis-url"), get.apply("collab.node-id"));
    }

    /** The configured node id, or host:port when none is set. */
    public String nodeIdOr(String host, String port) {
        return nodeId.isEmpty() ? host + ":" + port : nodeId;
    }
}
