package dev.collab.room;

/**
 * One client's awareness state as Yjs carries it: numeric client id, clock, state as JSON text ("null" = gone).
 * {@code jsonClientId} names the JSON-protocol client that owns it, or is null for Yjs clients.
 */
public record AwarenessEntry(long awarenessId, long clock, String stateJson, String jsonClientId) {

    public boolean removed() {
        return "null".equals(stateJson);
    }

}
