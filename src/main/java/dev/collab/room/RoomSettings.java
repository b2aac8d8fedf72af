package dev.collab.room;

import java.time.Duration;

/**
 * Tuning of rooms: when to drop an empty room from memory, when to compact, how to batch catch-up steps, how
 * many connections one document may have, and how large its Yjs state may grow. The server builds it from its
 * settings (config.Settings.rooms()); elsewhere start from {@link #DEFAULTS} (application.yaml's values) and
 * change what matters by name: {@code RoomSettings.DEFAULTS.withIdleUnload(d).withCompaction(2, 1L << 30)}.
 */
public record RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch,
                           int maxConnectionsPerDocument, long maxDocumentBytes) {
    public static final int DEFAULT_MAX_CONNECTIONS_PER_DOCUMENT = 1000;
    public static final long DEFAULT_MAX_DOCUMENT_BYTES = 256L << 20;
    /** The defaults of application.yaml. */
    public static final RoomSettings DEFAULTS = new RoomSettings(Duration.ofSeconds(30), 500, 4L << 20, 500,
            DEFAULT_MAX_CONNECTIONS_PER_DOCUMENT, DEFAULT_MAX_DOCUMENT_BYTES);

    /** Positional, without the two per-document limits (kept for tests still written against it). */
    public RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch) {
        this(idleUnload, compactionUpdates, compactionBytes, stepsBatch, DEFAULT_MAX_CONNECTIONS_PER_DOCUMENT);
    }

    /** Positional, without the document size limit (kept for tests still written against it). */
    public RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch,
                        int maxConnectionsPerDocument) {
        this(idleUnload, compactionUpdates, compactionBytes, stepsBatch, maxConnectionsPerDocument,
                DEFAULT_MAX_DOCUMENT_BYTES);
    }

    public RoomSettings withIdleUnload(Duration idle) {
        return new RoomSettings(idle, compactionUpdates, compactionBytes, stepsBatch, maxConnectionsPerDocument,
                maxDocumentBytes);
    }

    /** Compact after this many updates or this many bytes of them. */
    public RoomSettings withCompaction(int updates, long bytes) {
        return new RoomSettings(idleUnload, updates, bytes, stepsBatch, maxConnectionsPerDocument, maxDocumentBytes);
    }

    public RoomSettings withStepsBatch(int steps) {
        return new RoomSettings(idleUnload, compactionUpdates, compactionBytes, steps, maxConnectionsPerDocument,
                maxDocumentBytes);
    }

    public RoomSettings withMaxConnectionsPerDocument(int connections) {
        return new RoomSettings(idleUnload, compactionUpdates, compactionBytes, stepsBatch, connections,
                maxDocumentBytes);
    }

    public RoomSettings withMaxDocumentBytes(long bytes) {
        return new RoomSettings(idleUnload, compactionUpdates, compactionBytes, stepsBatch, maxConnectionsPerDocument,
                bytes);
    }
}
