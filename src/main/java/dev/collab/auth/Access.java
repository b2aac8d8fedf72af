package dev.collab.auth;

/**
 * The outcome of checking a token for a document. Refusals carry the HTTP status to answer an upgrade with
 * (401: no valid token, 403: a valid token for something else) and a sentence for the client.
 */
public record Access(boolean granted, boolean canWrite, String userId, int status, String reason,
                     java.time.Instant expiresAt) {

    public static Access readWrite(String userId) {
        return new Access(true, true, userId, 200, null, null);
    }

    public static Access readOnly(String userId) {
        return new Access(true, false, userId, 200, null, null);
    }

    public static Access unauthorized(String reason) {
        return new Access(false, false, null, 401, reason, null);
    }

    public static Access forbidden(String reason) {
        return new Access(false, false, null, 403, reason, null);
    }

    /** This grant, ending at {@code expiry} (the token's exp): open connections are closed then. */
    public Access expiringAt(java.time.Instant expiry) {
        return new Access(granted, canWrite, userId, status, reason, expiry);
    }
}
