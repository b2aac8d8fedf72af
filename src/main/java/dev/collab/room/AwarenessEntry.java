package dev.collab.room;

/**
 * One client's awareness state as Yjs carries it: numeric client id, clock, state as JSON text ("null" = gone).
 * {@code jsonClientId} names the JSON-protocol client that owns it, or is null for Yjs clients.
 */
public record AwarenessEntry(long awarenessId, long clock, String stateJson, String jsonClientId) {

    public boolean removed() {
        return "null".equals(stateJson);
    }

    /** A stable numeric awareness id for a JSON client (Yjs ids are random uint32; this stays in that range). */
    public static long idForJsonClient(String documentId, String clientId) {
        long h = 0xcbf29ce484222325L;
        for (char ch : (documentId + '\u0000' + clientId).toCharArray()) {
            h ^= ch;
            h *= 0x100000001b3L;
        }
        return (h ^ (h >>> 32)) & 0xFFFFFFFFL;
    }
}
