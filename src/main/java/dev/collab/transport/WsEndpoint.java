package dev.collab.transport;

import io.helidon.websocket.WsCloseCodes;

import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection's messages on the way in: the upgrade check, the message rate limit, the protocol handler's
 * calls, and its cleanup on every exit path. Complete (reassembled, size-checked, UTF-8-checked) messages come
 * from {@link WsFrameReader} on the connection's reader thread; the handler's calls are serialized here (see
 * {@link ProtocolHandler} for which thread makes each).
 */
final class WsEndpoint implements WsFrameReader.Sink {
    private static final System.Logger LOG = System.getLogger(WsEndpoint.class.getName());

    private final ConnectionManager manager;
    private final String protocol;
    private final ProtocolHandler.Factory factory;
    private final int maxMessageBytes;
    private final TransportEvents events;
    private UpgradeRequest request;
    private Connection connection;
    private ProtocolHandler handler;
    private TokenBucket rate;
    /** Serializes the handler's calls (see {@link ProtocolHandler} on threads); guards {@code handlerClosed}. */
    private final ReentrantLock calls = new ReentrantLock();
    private boolean handlerClosed;
    private volatile boolean closeRequested;
    private volatile boolean cleanedUp;
    /** What the handler's {@code isAuthenticated} answered after its last call (read by the auth deadline). */
    private volatile boolean authenticated;
    /** When the client was last told it is rate-limited: at most once a second, the other drops are only counted. */
    private long lastRateLimitReply = System.nanoTime() - RATE_LIMIT_REPLY_NANOS;
    private static final long RATE_LIMIT_REPLY_NANOS = 1_000_000_000L;

    WsEndpoint(ConnectionManager manager, String protocol, ProtocolHandler.Factory factory) {
        this.manager = manager;
        this.protocol = protocol;
        this.factory = factory;
        this.maxMessageBytes = manager.limits().maxMessageBytes();
        this.events = manager.events();
    }

    int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** The Origin allowlist and the protocol's own check; throws {@link UpgradeRefused} to refuse. */
    void checkUpgrade(HttpPrologue prologue, Headers headers) {
        Map<String, String> query = new HashMap<>();
        for (String name : prologue.query().names()) {
            query.put(name, prologue.query().get(name));
        }
        request = new UpgradeRequest(prologue.uriPath().path(), query, headers);
        manager.checkUpgrade(factory, request, true);
    }

    /** The socket is upgraded: registers the connection and opens the protocol's side of it (on the reader). */
    Connection open(WsSocket socket, String peerHost) {
        connection = manager.register(protocol, factory, peerHost, request);
        connection.start(socket);
        int perSecond = manager.limits().messagesPerSecond();
        rate = new TokenBucket(perSecond, 2 * perSecond, System::nanoTime);
        if (!connection.isOpen()) {
            return connection;                          // refused by a connection limit
        }
        try {
            handler = factory.create(request, connection);
            request = null;     // the handler took what it needs; don't keep the upgrade headers per connection
            connection.onFinish(this::closed);
            call(handler::onOpen);
            if (!authenticated) {
                manager.enforceAuthDeadline(connection, () -> authenticated, factory.authTimeoutCloseCode());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "opening a " + protocol + " connection failed", e);
            connection.close(WsCloseCodes.UNEXPECTED_CONDITION, "server error");
            closed();
        }
        return connection;
    }

    /**
     * Runs one handler call on the reader, never beside another call or after {@link #closed}: a cleanup asked for
     * meanwhile (by the writer or the timer) runs here, once the call returns.
     */
    private void call(Runnable call) {
        calls.lock();
        try {
            if (!handlerClosed) {
                call.run();
                authenticated = handler.isAuthenticated();
            }
        } finally {
            calls.unlock();
        }
        if (closeRequested) {
            closed();
        }
    }

    @Override
    public void onText(String text) {
        if (connection.isOpen() && handler != null && admit(factory.kindOf(text), Connection.utf8Length(text))) {
            call(() -> handler.onText(text));
        }
    }

    @Override
    public void onBinary(byte[] data) {
        if (connection.isOpen() && handler != null && admit(factory.kindOf(data), data.length)) {
            call(() -> handler.onBinary(data));
        }
    }

    private boolean admit(String kind, int bytes) {
        events.inbound(protocol, kind, bytes);
        if (rate.tryTake()) {
            return true;
        }
        connection.reportRefused("rate-limit");
        long now = System.nanoTime();
        if (now - lastRateLimitReply >= RATE_LIMIT_REPLY_NANOS) {
            lastRateLimitReply = now;
            call(handler::onRateLimited);
        }
        return false;
    }

    @Override
    public void onPing(byte[] payload) {
        connection.pong(payload);
    }

    @Override
    public void onPong(byte[] payload) {
        // only the arrival counts (the reader marks it)
    }

    /** The client's close frame: answered with its code (RFC 6455 5.5.1), then the connection ends. */
    @Override
    public void onClose(int code, String reason) {
        connection.closedByClient(code, reason);
        connection.close(code == 1005 ? WsCloseCodes.NORMAL_CLOSE : code, "");
        closed();
    }

    /** A frame broke RFC 6455 or the size limit: closed with the matching code. */
    void protocolError(int code, String message) {
        if (code == WsCloseCodes.TOO_BIG) {
            connection.reportRefused("too-big");
        }
        connection.close(code, message);
        closed();
    }

    /** The reader is done (close handshake, error, or the client dropped): nothing more comes in. */
    void ended() {
        closed();
        if (connection != null) {
            connection.terminate();
        }
    }

    /**
     * Protocol cleanup, once, from any thread: the reader's exits, the writer or the timer finishing the connection.
     * It runs at once unless a handler call is running, and then right after that call, on the reader (a thread
     * that finds the calls taken leaves it to the holder, which looks again after letting go): so the handler is
     * never called from two threads at once, and never again after {@code onClosed}.
     */
    private void closed() {
        closeRequested = true;
        if (calls.isHeldByCurrentThread()) {
            return;         // inside a handler call on this thread: call() runs it once that returns
        }
        while (!cleanedUp && calls.tryLock()) {
            try {
                if (!handlerClosed) {
                    handlerClosed = true;
                    if (handler != null) {
                        try {
                            handler.onClosed();
                        } catch (RuntimeException e) {
                            LOG.log(System.Logger.Level.WARNING, "protocol cleanup failed", e);
                        }
                    }
                }
                cleanedUp = true;
            } finally {
                calls.unlock();
            }
        }
    }
}
