package dev.collab.protocol.json;

/**
 * How JSON clients appear in Yjs awareness: they send a state and nothing else, so the adapter gives each a stable
 * numeric id and a clock (the room stores whatever it is given, see {@code Room.setAwareness}).
 */
public final class JsonAwareness {
    private JsonAwareness() {
    }

    /** A stable numeric awareness id for a JSON client (Yjs ids are random uint32; this stays in that range). */
    public static long idFor(String documentId, String clientId) {
        long h = 0xcbf29ce484222325L;
        for (char ch : (documentId + '\u0000' + clientId).toCharArray()) {
            h ^= ch;
            h *= 0x100000001b3L;
        }
        return (h ^ (h >>> 32)) & 0xFFFFFFFFL;
    }

    /**
     * The clock of a JSON client's next state after {@code current} (0 for none). Yjs clients accept a state only
     * with a clock above the one they hold for the id (a new id needs > 0) and keep it across our reconnects and
     * restarts: so the clock follows the wall clock (milliseconds since the epoch, above any clock this id had
     * before as long as a client changes its state at most once a millisecond).
     */
    public static long nextClock(long current) {
        return Math.max(current + 1, System.currentTimeMillis());
    }
}
