package dev.collab.transport;

/**
 * A wire protocol's side of one connection: turns complete inbound messages into room calls. The transport
 * calls these methods in order on the connection's reader thread, and {@link #onClosed} exactly once on
 * whichever exit path comes first.
 */
public interface ProtocolHandler {

    default void onOpen() {
    }

    /** Called with every server ping, for protocols that also need traffic the client's code can see. */
    default void onKeepalive() {
    }

    /** A message arrived over the connection's rate limit; it is dropped. Default: close with 1008. */
    default void onRateLimited() {
        connection().close(Connection.CLOSE_POLICY, "message rate limit exceeded");
    }

    /** False while the client still has to authenticate in-band; checked once at the auth deadline. */
    default boolean isAuthenticated() {
        return true;
    }

    /** A complete (reassembled) text message. */
    default void onText(String text) {
        connection().close(1003, "text frames are not accepted on this endpoint");
    }

    /** A complete (reassembled) binary message. */
    default void onBinary(byte[] data) {
        connection().close(1003, "binary frames are not accepted on this endpoint");
    }

    /** The connection is gone (closed, dropped, timed out, or refused); release everything it held. */
    void onClosed();

    Connection connection();

    /** Creates the handler of a new connection from its upgrade request. */
    @FunctionalInterface
    interface Factory {
        ProtocolHandler create(UpgradeRequest request, Connection connection);

        /** Refuses an upgrade before the socket opens (throw {@code WsUpgradeException}); default accepts. */
        default void checkUpgrade(UpgradeRequest request) throws io.helidon.websocket.WsUpgradeException {
        }

        /** A short name for the kind of a binary message (for metrics); cheap, never throws. */
        default String kindOf(byte[] message) {
            return "binary";
        }

        /** A short name for the kind of a text message (for metrics); cheap, never throws. */
        default String kindOf(String message) {
            return "text";
        }
    }
}
