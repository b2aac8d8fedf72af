package dev.collab.room;

import java.time.Duration;

/**
 * Tuning of rooms: when to drop an empty room from memory, when to compact, how to batch catch-up steps, how
 * many connections one document may have, and how large its Yjs state may grow.
 */
public record RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch,
                           int maxConnectionsPerDocument, long maxDocumentBytes) {
    public static final int DEFAULT_MAX_CONNECTIONS_PER_DOCUMENT = 1000;
    public static final long DEFAULT_MAX_DOCUMENT_BYTES = 256L << 20;

    public RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch) {
        this(idleUnload, compactionUpdates, compactionBytes, stepsBatch, DEFAULT_MAX_CONNECTIONS_PER_DOCUMENT);
    }

    public RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch,
                        int maxConnectionsPerDocument) {
        this(idleUnload, compactionUpdates, compactionBytes, stepsBatch, maxConnectionsPerDocument,
                DEFAULT_MAX_DOCUMENT_BYTES);
    }
}
