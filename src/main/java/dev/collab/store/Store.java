package dev.collab.store;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Durable history of documents: Yjs updates and ProseMirror steps.
 *
 * <p>Writes return futures that complete only after the change is committed, so callers acknowledge nothing
 * that could still be lost. Reads see every write whose future has completed.
 */
public interface Store extends AutoCloseable {

    /** What a room needs to resume a document: its step version and the position of its update log. */
    record DocumentHead(int stepVersion, long lastUpdateSeq, int updateCount, long updateBytes) {
        public static final DocumentHead EMPTY = new DocumentHead(0, 0, 0, 0);
    }

    record StoredStep(int version, String stepJson, String clientId) {
    }

    record StoredUpdate(long seq, byte[] data) {
    }

    DocumentHead head(String documentId);

    /** Steps with version >= {@code fromVersion}, in version order, at most {@code limit}. */
    List<StoredStep> stepsSince(String documentId, int fromVersion, int limit);

    /** The update log in sequence order (after compaction, usually one merged update first). */
    List<StoredUpdate> updates(String documentId);

    /**
     * Appends steps at versions {@code firstVersion, firstVersion+1, ...}. Fails with {@link VersionTakenException}
     * when a version is already stored, leaving nothing of the batch behind.
     */
    CompletableFuture<Void> appendSteps(String documentId, int firstVersion, List<String> stepsJson, String clientId);

    /** Appends one update at sequence number {@code seq} (chosen by the document's single owner). */
    CompletableFuture<Void> appendUpdate(String documentId, long seq, byte[] update);

    /**
     * Replaces the updates with seq <= {@code upToSeq} by {@code merged}, stored at {@code upToSeq}, in one
     * transaction. Updates after {@code upToSeq} are untouched, so appends racing with compaction are kept.
     */
    CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged);

    /** True when the database answers a trivial query (readiness). */
    boolean isHealthy();

    @Override
    void close();

    /** A step version was already taken: the caller's view of the document is stale. */
    final class VersionTakenException extends RuntimeException {
        public VersionTakenException(String documentId, int version) {
            super("document " + documentId + " already has a step at version " + version);
        }
    }

    /** The store could not commit or read; the change was not acknowledged. */
    final class StoreException extends RuntimeException {
        public StoreException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
