package dev.collab.room;

/**
 * One client's awareness state as Yjs carries it: numeric client id, clock, state as JSON text ("null" = gone).
 * {@code ownerClientId} is the clientID of the connection that owns it when its protocol names clients (the
 * adapter sets it; peers of other protocols see the entry under its numeric id only), else null.
 */
public record AwarenessEntry(long awarenessId, long clock, String stateJson, String ownerClientId) {

    public boolean removed() {
        return "null".equals(stateJson);
    }

}
