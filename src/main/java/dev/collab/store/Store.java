package dev.collab.store;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Durable history of documents: Yjs updates and ProseMirror steps.
 *
 * <p>Writes return futures that complete only after the change is committed, so callers acknowledge nothing
 * that could still be lost. Reads see every write whose future has completed. Reads block: callers keep them out
 * of a room's owner task. Sequence numbers belong to the store: it assigns them in commit order, so several
 * writers (rooms on several nodes) can append to one document and a reader following {@link #updatesAfter}
 * never skips one.
 *
 * <p>Every implementation passes {@code StoreContractTest}.
 */
public interface Store extends AutoCloseable {

    /**
     * What a room needs to resume a document: its step version, the position of its update log, and its kind
     * (null while the document was never written).
     */
    record DocumentHead(int stepVersion, long lastUpdateSeq, int updateCount, long updateBytes, DocumentKind kind) {
        public static final DocumentHead EMPTY = new DocumentHead(0, 0, 0, 0, null);
    }

    record StoredStep(int version, String stepJson, String clientId) {
    }

    record StoredUpdate(long seq, byte[] data) {
    }

    /**
     * A stored document's metadata. {@code bytes} counts the stored history: Yjs update bytes plus the steps'
     * JSON. Times are epoch milliseconds: {@code createdAt} of the first stored change, {@code updatedAt} of the
     * latest update or step (compaction and snapshots are not changes).
     */
    record DocumentInfo(String documentId, long createdAt, long updatedAt, int stepVersion, int updateCount,
                        long bytes, DocumentKind storedKind) {
        /** {@code yjs} or {@code steps} (fixed by the first write), or {@code empty} for a row never given a kind. */
        public String kind() {
            return storedKind != null ? storedKind.wire() : "empty";
        }
    }

    /** A client's ProseMirror document (JSON) at step {@code version}. */
    record StoredSnapshot(int version, String docJson) {
    }

    DocumentHead head(String documentId);

    /** The document's metadata; empty when it was never written (or was deleted). */
    Optional<DocumentInfo> document(String documentId);

    /**
     * Stored documents whose id starts with {@code prefix} ("" = all) and sorts after {@code afterId} (null =
     * from the start), in id order (Java's String order on the id's UTF-16 units matches SQLite's for ids
     * without surrogates), at most {@code limit}.
     */
    List<DocumentInfo> documents(String prefix, String afterId, int limit);

    /** Ids of documents whose last change is older than {@code cutoffMillis}, oldest first, at most {@code limit}. */
    List<String> untouchedSince(long cutoffMillis, int limit);

    /** The newest stored snapshot of the document, if any. */
    Optional<StoredSnapshot> snapshot(String documentId);
    /** The heads of several documents in one round trip; documents never written have {@link DocumentHead#EMPTY}. */
    Map<String, DocumentHead> heads(Collection<String> documentIds);

    /** Steps with version >= {@code fromVersion}, in version order, at most {@code limit}. */
    List<StoredStep> stepsSince(String documentId, int fromVersion, int limit);

    /** The update log in sequence order (after compaction, usually one merged update first). */
    List<StoredUpdate> updates(String documentId);

    /** Updates with seq > {@code afterSeq} in sequence order, at most {@code limit} (catching up from a watermark). */
    List<StoredUpdate> updatesAfter(String documentId, long afterSeq, int limit);

    /**
     * Appends steps at versions {@code firstVersion, firstVersion+1, ...}. Fails with {@link VersionTakenException}
     * when a version is already stored, and with {@link DocumentKindException} when the document is a Yjs
     * document, leaving nothing of the batch behind. The first write of a document fixes its kind.
     */
    CompletableFuture<Void> appendSteps(String documentId, int firstVersion, List<String> stepsJson, String clientId);

    /**
     * Appends one update; completes after the commit with the sequence number the store gave it: one above the
     * document's previous one, in commit order. Fails with {@link DocumentKindException} when the document is a
     * steps document.
     */
    CompletableFuture<Long> appendUpdate(String documentId, byte[] update);

    /**
     * Replaces the updates with seq <= {@code upToSeq} by {@code merged}, stored at {@code upToSeq}, in one
     * transaction. Updates after {@code upToSeq} are untouched, so appends racing with compaction are kept.
     * {@code merged} must hold every update up to {@code upToSeq}.
     */
    CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged);

    /**
     * Stores a snapshot unless one with a higher version is stored already (the newest wins; an equal version
     * replaces). The caller checks that {@code version} is not ahead of the document.
     */
    CompletableFuture<Void> saveSnapshot(String documentId, int version, String docJson);

    /**
     * Deletes the document and all its history (updates, steps, snapshot), after every write queued before it.
     * Completes with true when the document existed.
     */
    CompletableFuture<Boolean> delete(String documentId);

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

    /** A write of one kind to a document of the other kind: refused, nothing stored. */
    final class DocumentKindException extends RuntimeException {
        private final DocumentKind kind;

        public DocumentKindException(String documentId, DocumentKind kind) {
            super("document " + documentId + " is a " + kind.wire() + " document");
            this.kind = kind;
        }

        /** The document's kind (the one the refused write was not). */
        public DocumentKind kind() {
            return kind;
        }
    }

    /** The store could not commit or read; the change was not acknowledged. */
    final class StoreException extends RuntimeException {
        public StoreException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
