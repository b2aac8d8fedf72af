package dev.collab.config;

/**
 * A setting that cannot be used. The message is one line for an operator: it names the environment variable (and
 * the YAML key), what is accepted and what was given. Start-up prints it and exits with status 2.
 */
public final class ConfigError extends IllegalArgumentException {
    public ConfigError(String message) {
        super(message);
    }

    /** "COLLAB_X (collab.x) must be ..., got 'v'". */
    public static ConfigError of(String key, String rule, String value) {
        return new ConfigError(Settings.envName(key) + " (" + key + ") " + rule
                + (value == null ? "" : ", got '" + value + "'"));
    }
}
