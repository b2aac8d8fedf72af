package dev.collab.room;

/**
 * What happens to documents, told to an observer outside the room (webhooks). Called from inside a room's owner
 * task, so an implementation must return at once: record and hand off, never block or do I/O.
 */
public interface DocumentEvents {

    /** What kind of history a change extended. */
    enum ChangeKind { YJS, STEPS }

    /**
     * A change was committed: a Yjs update with sequence number {@code position}, or steps that brought the
     * document to version {@code position}; {@code userId} is the writer's (null when unknown).
     */
    void changed(String documentId, ChangeKind kind, long position, String userId);

    /** The document and its history were deleted. */
    void deleted(String documentId);

    /** A connection joined the document's room. */
    void joined(String documentId, Peer peer);

    /** A connection left the document's room (closed, dropped, replaced or the document was deleted). */
    void left(String documentId, Peer peer);

    DocumentEvents NONE = new DocumentEvents() {
        @Override
        public void changed(String documentId, ChangeKind kind, long position, String userId) {
        }

        @Override
        public void deleted(String documentId) {
        }

        @Override
        public void joined(String documentId, Peer peer) {
        }

        @Override
        public void left(String documentId, Peer peer) {
        }
    };
}
