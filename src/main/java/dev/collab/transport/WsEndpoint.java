package dev.collab.transport;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Headers;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;

import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Helidon listener for one connection (created per connection through a supplier, so it can keep the upgrade
 * request: Helidon does not hand path or query to listeners). Reassembles fragmented messages with a size cap,
 * applies the message rate limit, answers pings, and runs the protocol handler's cleanup on every exit path.
 */
final class WsEndpoint implements WsListener {
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
    private StringBuilder textParts;
    private ByteArrayOutputStream binaryParts;
    private boolean handlerClosed;
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

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        Map<String, String> query = new HashMap<>();
        for (String name : prologue.query().names()) {
            query.put(name, prologue.query().get(name));
        }
        request = new UpgradeRequest(prologue.uriPath().path(), query, headers);
        manager.checkUpgrade(factory, request, true);
        return Optional.empty();
    }

    @Override
    public void onOpen(WsSession session) {
        connection = manager.register(protocol, factory, session.socketContext().remotePeer().host(), request);
        // Helidon (4.5 too) never calls onClose/onError when a client just drops, but this reader thread ends then:
        // the connection manager's liveness sweep watches it and cleans up on that path too
        connection.start(session, Thread.currentThread());
        int perSecond = manager.limits().messagesPerSecond();
        rate = new TokenBucket(perSecond, 2 * perSecond, System::nanoTime);
        if (!connection.isOpen()) {
            return;                                     // refused by a connection limit
        }
        try {
            handler = factory.create(request, connection);
            request = null;     // the handler took what it needs; don't keep the upgrade headers per connection
            connection.onFinish(this::closed);
            connection.onKeepalive(handler::onKeepalive);
            handler.onOpen();
            if (!handler.isAuthenticated()) {
                manager.enforceAuthDeadline(connection, handler);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "opening a " + protocol + " connection failed", e);
            connection.close(Connection.CLOSE_INTERNAL, "server error");
            closed();
        }
    }

    @Override
    public void onMessage(WsSession session, String text, boolean last) {
        connection.markInbound();
        if (!connection.isOpen() || handler == null) {
            return;
        }
        if (textParts == null && last) {
            deliverText(text);
            return;
        }
        if (textParts == null) {
            textParts = new StringBuilder();
        }
        textParts.append(text);
        if (textParts.length() > maxMessageBytes) {
            textParts = null;
            tooBig();
            return;
        }
        if (last) {
            String whole = textParts.toString();
            textParts = null;
            deliverText(whole);
        }
    }

    private void deliverText(String text) {
        // exact UTF-8 size (for the limit and the byte counters), counted without encoding
        int bytes = Connection.utf8Length(text);
        if (bytes > maxMessageBytes) {
            tooBig();
            return;
        }
        if (admit(factory.kindOf(text), bytes)) {
            handler.onText(text);
        }
    }

    @Override
    public void onMessage(WsSession session, BufferData buffer, boolean last) {
        connection.markInbound();
        if (!connection.isOpen() || handler == null) {
            return;
        }
        byte[] bytes = new byte[buffer.available()];
        buffer.read(bytes);
        if (binaryParts == null && last) {
            if (bytes.length > maxMessageBytes) {
                tooBig();
            } else if (admit(factory.kindOf(bytes), bytes.length)) {
                handler.onBinary(bytes);
            }
            return;
        }
        if (binaryParts == null) {
            binaryParts = new ByteArrayOutputStream();
        }
        if (binaryParts.size() + (long) bytes.length > maxMessageBytes) {
            binaryParts = null;
            tooBig();
            return;
        }
        binaryParts.writeBytes(bytes);
        if (last) {
            byte[] whole = binaryParts.toByteArray();
            binaryParts = null;
            if (admit(factory.kindOf(whole), whole.length)) {
                handler.onBinary(whole);
            }
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
            handler.onRateLimited();
        }
        return false;
    }

    private void tooBig() {
        connection.reportRefused("too-big");
        connection.close(Connection.CLOSE_TOO_BIG, "message larger than " + maxMessageBytes + " bytes");
        closed();
    }

    @Override
    public void onPing(WsSession session, BufferData buffer) {
        connection.markInbound();
        byte[] data = new byte[buffer.available()];
        buffer.read(data);
        connection.pong(data);
    }

    @Override
    public void onPong(WsSession session, BufferData buffer) {
        connection.markInbound();
    }

    @Override
    public void onClose(WsSession session, int status, String reason) {
        if (connection != null) {
            connection.closedByClient(status, reason);
            connection.close(status == 1005 || status == 1006 ? Connection.CLOSE_NORMAL : status, "");
        }
        closed();
        if (connection != null) {
            connection.finish();
        }
    }

    @Override
    public void onError(WsSession session, Throwable t) {
        LOG.log(System.Logger.Level.DEBUG, "websocket error", t);
        closed();
        if (connection != null) {
            connection.terminate();
        }
    }

    /** Protocol cleanup, once; the connection's own cleanup may also arrive through the writer or the sweep. */
    private synchronized void closed() {
        if (!handlerClosed && handler != null) {
            handlerClosed = true;
            try {
                handler.onClosed();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "protocol cleanup failed", e);
            }
        }
    }
}
