package dev.collab.transport;

import io.helidon.websocket.WsCloseCodes;

/**
 * A wire protocol's side of one connection: turns complete inbound messages into room calls.
 *
 * <p>Threads. The transport calls a handler's methods one at a time, in order, never two at once, and each call
 * sees everything the calls before it did (they are serialized by the connection's endpoint), so a handler needs
 * no locks for state only these methods touch:
 * <ul>
 *   <li>{@link #onOpen}, {@link #onText}, {@link #onBinary}, {@link #onRateLimited} and
 *   {@link #isAuthenticated}: the connection's reader thread.</li>
 *   <li>{@link #onClosed}: exactly once, and last (nothing is called after it). On the reader thread when the
 *   reader ends the connection (the client's close, a protocol error, a dropped socket) or is inside one of the
 *   calls above when the connection finishes; otherwise on the thread that finished it (the writer once the
 *   server's close frame is out, the timer dropping a silent connection) while the reader waits in a socket read
 *   and calls nothing.</li>
 * </ul>
 * Nothing else calls a handler: the keepalive is a constant message ({@link Factory#keepalive}) the transport's
 * timer sends itself, and the auth deadline reads what {@link #isAuthenticated} last answered on the reader.
 * Code that runs elsewhere (room callbacks on a room's owner, token expiry on a timer) may use the
 * {@link Outbound}, which any thread may call, but must not touch the handler's own state.
 */
public interface ProtocolHandler {

    default void onOpen() {
    }

    /** A message arrived over the connection's rate limit; it is dropped. Default: close with 1008. */
    default void onRateLimited() {
        connection().close(WsCloseCodes.VIOLATED_POLICY, "message rate limit exceeded");
    }

    /**
     * False while the client still has to authenticate in-band. Asked on the reader after {@link #onOpen} and
     * after every message; the answer is what the auth deadline checks.
     */
    default boolean isAuthenticated() {
        return true;
    }

    /** A complete (reassembled) text message. */
    default void onText(String text) {
        connection().close(WsCloseCodes.CANNOT_ACCEPT, "text frames are not accepted on this endpoint");
    }

    /** A complete (reassembled) binary message. */
    default void onBinary(byte[] data) {
        connection().close(WsCloseCodes.CANNOT_ACCEPT, "binary frames are not accepted on this endpoint");
    }

    /** The connection is gone (closed, dropped, timed out, or refused); release everything it held. */
    void onClosed();

    Outbound connection();

    /** Creates the handler of a new connection from its upgrade request. */
    @FunctionalInterface
    interface Factory {
        ProtocolHandler create(UpgradeRequest request, Outbound connection);

        /** Refuses an upgrade before the socket opens (throw {@code WsUpgradeException}); default accepts. */
        default void checkUpgrade(UpgradeRequest request) throws io.helidon.websocket.WsUpgradeException {
        }

        /**
         * The protocol's own keepalive (a String or byte[] message), sent with every server ping sweep, for
         * clients whose code cannot see WebSocket pings; null for none. Sent by the transport's timer: it must
         * be constant (no per-connection state).
         */
        default Object keepalive() {
            return null;
        }

        /**
         * The close code for a connection whose handler has not authenticated by the auth deadline (only protocols
         * that authenticate in-band, see {@link ProtocolHandler#isAuthenticated}); default 1008.
         */
        default int authTimeoutCloseCode() {
            return WsCloseCodes.VIOLATED_POLICY;
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
