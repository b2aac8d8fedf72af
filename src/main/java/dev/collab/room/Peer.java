package dev.collab.room;

/**
 * One connection's membership in one room, implemented by each protocol adapter. The room calls it from its
 * owner task, so both methods must return at once (encode and enqueue, never block on the network).
 */
public interface Peer {

    /** The client id the protocol knows this connection by (JSON clientID, or one generated for Yjs clients). */
    String clientId();

    /** Wire protocol name, for counts and logs: {@code json}, {@code y-websocket}, {@code hocuspocus}. */
    String protocol();

    /** Hands an event to the connection; the adapter encodes what its protocol carries and ignores the rest. */
    void deliver(RoomEvent event);

    /**
     * A newer connection with the same client id took this membership over ({@link #replacedBySameClientId}); the
     * room has already removed it. The adapter ends the connection in its protocol's words (the JSON protocol
     * closes it with a code of its own). Default: as an operator's {@link #disconnect}.
     */
    default void replaced() {
        disconnect("replaced by a newer connection with the same clientID");
    }

    /**
     * Ends this membership because the document was deleted, telling the client in its protocol's way that
     * reconnecting will not bring the document back (so a provider does not silently re-create it).
     */
    void documentDeleted();

    /** The authenticated user behind this connection (the token's subject), null when unknown. */
    default String userId() {
        return null;
    }

    /** The client's address (as logged: the forwarded one behind a trusted proxy), null when unknown. */
    default String address() {
        return null;
    }

    /** When this membership began, epoch milliseconds (0 when unknown). */
    default long connectedAt() {
        return 0;
    }

    /**
     * Ends the connection because an operator asked (admin API), in the protocol's way of saying "reset": the stock
     * clients reconnect, with whatever token they hold then.
     */
    void disconnect(String reason);

    /** Whether a newer connection with the same client id replaces this one (the JSON protocol's rule). */
    default boolean replacedBySameClientId() {
        return false;
    }

    /** Whether this peer may change the document; read-only peers are refused writes by the room. */
    default boolean canWrite() {
        return true;
    }

    /** Whether the protocol carries application messages ({@link RoomEvent.Message}); y-websocket does not. */
    default boolean receivesMessages() {
        return true;
    }
}
