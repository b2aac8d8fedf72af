package dev.collab.auth;

/** Decides who may open which document, and whether they may change it. */
public interface AccessPolicy {

    /** Checks {@code token} (null when the client sent none) for {@code documentId}. */
    Access check(String token, String documentId);

    /** True when every client is let in read-write (no secret configured). */
    default boolean isOpen() {
        return false;
    }

    /** Everyone may read and write every document. */
    static AccessPolicy open() {
        return new AccessPolicy() {
            @Override
            public Access check(String token, String documentId) {
                return Access.readWrite(null);
            }

            @Override
            public boolean isOpen() {
                return true;
            }
        };
    }
}
