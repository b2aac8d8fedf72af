package dev.collab.protocol.hocuspocus;

/**
 * Bounds on one Hocuspocus socket: documents it may hold open, and frames (count and bytes) it may send for a
 * document before that document's authentication is decided.
 */
public record HocuspocusLimits(int maxDocumentsPerSocket, int maxPendingFrames, long maxPendingBytes) {
    public static final HocuspocusLimits DEFAULT = new HocuspocusLimits(64, 256, 4L << 20);

    /** These limits with another bound on the documents one socket may hold open. */
    public HocuspocusLimits withMaxDocumentsPerSocket(int documents) {
        return new HocuspocusLimits(documents, maxPendingFrames, maxPendingBytes);
    }
}
