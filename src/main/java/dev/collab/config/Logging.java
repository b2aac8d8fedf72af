package dev.collab.config;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** Sets the level of the server's own loggers ({@code dev.collab.*}) from COLLAB_LOG_LEVEL, one line per record. */
public final class Logging {
    private Logging() {
    }

    public static void configure(String level) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                    "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        }
        Level parsed;
        try {
            parsed = Level.parse(level);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("COLLAB_LOG_LEVEL must be a java.util.logging level, got " + level);
        }
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            h.setFormatter(new SimpleFormatter());
            if (h instanceof ConsoleHandler && parsed.intValue() < h.getLevel().intValue()) {
                h.setLevel(parsed);
            }
        }
        Logger.getLogger("dev.collab").setLevel(parsed);
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
