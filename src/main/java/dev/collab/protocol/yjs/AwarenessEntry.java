package dev.collab.protocol.yjs;

import dev.collab.yjs.Lib0Reader;

/**
 * One client's entry in a y-protocols awareness update.
 *
 * @param clientId the Yjs client id (a uint32 in practice; any varUint up to 2^53-1 is accepted)
 * @param clock    the client's awareness clock; a receiver applies the entry when it is newer than the clock it
 *                 knows, or equal with a {@code null} state for a client it knows (a removal)
 * @param state    the state as the raw JSON text the client sent ({@code JSON.stringify} output), checked to be
 *                 well-formed JSON; the JSON literal {@code null} means the client was removed
 */
public record AwarenessEntry(long clientId, long clock, String state) {

    /** The state text of a removed client. */
    public static final String REMOVED_STATE = "null";

    public AwarenessEntry {
        if (clientId < 0 || clientId > Lib0Reader.MAX_SAFE_INTEGER) {
            throw new IllegalArgumentException("clientId out of range: " + clientId);
        }
        if (clock < 0 || clock > Lib0Reader.MAX_SAFE_INTEGER) {
            throw new IllegalArgumentException("clock out of range: " + clock);
        }
        AwarenessCodec.requireJson(state);
    }

    /** The entry a server broadcasts when a client left: same clock, {@code null} state. */
    public static AwarenessEntry removed(long clientId, long clock) {
        return new AwarenessEntry(clientId, clock, REMOVED_STATE);
    }

    /** Whether the state is JSON {@code null} (the client is gone), whatever whitespace surrounds it. */
    public boolean isRemoved() {
        int from = 0;
        int to = state.length();
        while (from < to && isJsonWhitespace(state.charAt(from))) {
            from++;
        }
        while (to > from && isJsonWhitespace(state.charAt(to - 1))) {
            to--;
        }
        return to - from == 4 && state.startsWith(REMOVED_STATE, from);
    }

    private static boolean isJsonWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }
}
