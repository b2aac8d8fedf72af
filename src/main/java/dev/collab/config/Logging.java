package dev.collab.config;

import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Log output: the level of the server's own loggers ({@code dev.collab.*}) from COLLAB_LOG_LEVEL, and one line per
 * record on stderr, readable text by default or one JSON object per line (COLLAB_LOG_FORMAT=json) for log shippers.
 */
public final class Logging {
    private Logging() {
    }

    /** The names operators use (any case), as java.util.logging levels. JUL's own names are accepted too. */
    private static final Map<String, Level> LEVELS = Map.of(
            "trace", Level.FINEST, "debug", Level.FINE, "info", Level.INFO,
            "warn", Level.WARNING, "warning", Level.WARNING, "error", Level.SEVERE);

    /** COLLAB_LOG_LEVEL's value as a level; a {@link ConfigError} listing the accepted names otherwise. */
    public static Level parseLevel(String name) {
        String lower = name.trim().toLowerCase(Locale.ROOT);
        Level level = LEVELS.get(lower);
        if (level != null) {
            return level;
        }
        try {
            return Level.parse(lower.toUpperCase(Locale.ROOT));      // SEVERE, FINE, FINER, ALL, OFF, ...
        } catch (IllegalArgumentException e) {
            throw ConfigError.of("collab.log-level", "must be one of trace, debug, info, warn, error", name);
        }
    }

    public static void configure(String level, String format) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                    "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        }
        Level parsed = parseLevel(level);
        Formatter formatter = "json".equals(format) ? new JsonFormatter() : new SimpleFormatter();
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            h.setFormatter(formatter);
            if (h instanceof ConsoleHandler && parsed.intValue() < h.getLevel().intValue()) {
                h.setLevel(parsed);
            }
        }
        Logger.getLogger("dev.collab").setLevel(parsed);
    }

    /**
     * One JSON object per record: time, level, logger, message, and the structured fields a message names as
     * {@code key=value} (doc, client, user, protocol, conn, addr, code, reason, ...), so call sites keep writing
     * ordinary "close doc={0} code={1}" messages and the shipper still gets fields. A placeholder's field carries
     * the parameter itself (numbers stay numbers); a literal value runs to the next space.
     */
    public static final class JsonFormatter extends Formatter {
        private static final Set<String> FIELDS = Set.of("doc", "client", "user", "protocol", "conn", "addr", "code",
                "reason", "origin", "count", "scope", "write");
        private static final Pattern FIELD = Pattern.compile("\\b([a-z]+)=(?:\\{(\\d+)}|\"\\{(\\d+)}\"|([^\\s,;{]+))");
        private static final Set<String> NUMERIC = Set.of("conn", "code", "count");
        private static final Map<Level, String> NAMES = Map.of(Level.SEVERE, "ERROR", Level.WARNING, "WARN",
                Level.INFO, "INFO", Level.CONFIG, "DEBUG", Level.FINE, "DEBUG", Level.FINER, "TRACE",
                Level.FINEST, "TRACE");

        @Override
        public String format(LogRecord r) {
            JsonObjectBuilder o = Json.createObjectBuilder()
                    .add("time", r.getInstant().toString())
                    .add("level", NAMES.getOrDefault(r.getLevel(), r.getLevel().getName()))
                    .add("logger", r.getLoggerName() == null ? "" : r.getLoggerName())
                    .add("message", formatMessage(r));
            String pattern = r.getMessage();
            Object[] params = r.getParameters();
            if (pattern != null) {
                Matcher m = FIELD.matcher(pattern);
                while (m.find()) {
                    String key = m.group(1);
                    if (!FIELDS.contains(key)) {
                        continue;
                    }
                    String index = m.group(2) != null ? m.group(2) : m.group(3);
                    if (index == null) {
                        o.add(key, m.group(4));
                    } else if (params != null && Integer.parseInt(index) < params.length) {
                        Object v = params[Integer.parseInt(index)];
                        if (v instanceof Integer || v instanceof Long) {
                            o.add(key, ((Number) v).longValue());
                        } else if (v != null && NUMERIC.contains(key) && v.toString().matches("\\d{1,18}")) {
                            o.add(key, Long.parseLong(v.toString()));     // passed as text to dodge 1,234 grouping
                        } else if (v != null) {
                            o.add(key, v.toString());
                        }
                    }
                }
            }
            if (r.getThrown() != null) {
                StringWriter trace = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(trace));
                o.add("error", r.getThrown().toString()).add("stack", trace.toString());
            }
            return o.build().toString() + System.lineSeparator();
        }
    }

    /**
     * The JDK's LogManager resets itself (closing every handler) from its own shutdown hook, which runs at the same
     * time as the server's graceful stop, so the stop's log lines ("stopping", each closed connection, "stopped")
     * were lost. This LogManager skips that reset while the JVM is shutting down; each record is still flushed
     * as it is written (ConsoleHandler flushes per record). Installed with the {@code java.util.logging.manager}
     * system property before anything logs (see {@code Main}).
     */
    public static final class ShutdownSafeLogManager extends LogManager {
        @Override
        public void reset() {
            if (!shuttingDown()) {
                super.reset();
            }
        }

        private static boolean shuttingDown() {
            Thread probe = new Thread(() -> { });
            try {
                Runtime.getRuntime().addShutdownHook(probe);
                Runtime.getRuntime().removeShutdownHook(probe);
                return false;
            } catch (IllegalStateException e) {
                return true;                // "Shutdown in progress"
            }
        }
    }
}
