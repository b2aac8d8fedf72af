package dev.collab.room;

import java.time.Duration;

/**
 * Tuning of rooms: when to drop an empty room from memory, when to compact, how to batch catch-up steps, and how
 * many connections one document may have.
 */
public record RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch,
                           int maxConnectionsPerDocument) {
    public static final int DEFAULT_MAX_CONNECTIONS_PER_DOCUMENT = 1000;

    public RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch) {
        this(idleUnload, compactionUpdates, compactionBytes, stepsBatch, DEFAULT_MAX_CONNECTIONS_PER_DOCUMENT);
    }
}
