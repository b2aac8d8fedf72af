package dev.collab.auth;

import java.util.function.Predicate;

/** Decides who may open which document, and whether they may change it. */
public interface AccessPolicy {

    /** Checks {@code token} (null when the client sent none) for {@code documentId}. */
    Access check(String token, String documentId);

    /**
     * Which document ids {@code token} lets its holder read, or null when the token itself is refused (missing,
     * malformed, forged, expired); for listings, so the token is checked once, not per id.
     */
    default Predicate<String> readable(String token) {
        return id -> check(token, id).granted();
    }

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
