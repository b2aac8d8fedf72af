package dev.collab.transport;

import io.helidon.websocket.WsListener;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Owns every open connection: creates WebSocket endpoints for the protocols, pings idle connections (Helidon
 * 4.3 neither pings nor answers pings), drops connections that stopped answering, and counts them.
 */
public final class ConnectionManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConnectionManager.class.getName());

    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final Map<String, LongAdder> openByProtocol = new ConcurrentHashMap<>();
    private final LongAdder slowConsumers = new LongAdder();
    private final ScheduledExecutorService timer;
    private final long maxQueuedBytes;
    private final int maxMessageBytes;
    private final Duration pingInterval;
    private volatile boolean closed;

    public ConnectionManager(ScheduledExecutorService timer, int maxMessageBytes, long maxQueuedBytes,
                             Duration pingInterval) {
        this.timer = timer;
        this.maxMessageBytes = maxMessageBytes;
        this.maxQueuedBytes = maxQueuedBytes;
        this.pingInterval = pingInterval;
        long ms = pingInterval.toMillis();
        timer.scheduleAtFixedRate(this::sweep, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** A per-connection listener factory for Helidon's {@code WsRouting.endpoint(path, supplier)}. */
    public Supplier<WsListener> endpoint(String protocol, ProtocolHandler.Factory factory) {
        return () -> new WsEndpoint(this, protocol, factory, maxMessageBytes);
    }

    Connection register(String protocol, String remoteAddress) {
        Connection[] holder = new Connection[1];
        Connection c = new Connection(protocol, remoteAddress, maxQueuedBytes,
                () -> unregister(holder[0]), slowConsumers::increment);
        holder[0] = c;
        open.add(c);
        openByProtocol.computeIfAbsent(protocol, p -> new LongAdder()).increment();
        return c;
    }

    private void unregister(Connection c) {
        if (open.remove(c)) {
            openByProtocol.get(c.protocol()).decrement();
        }
        // a close frame went out; if the client never answers it, do not keep its socket forever
        timer.schedule(c::terminate, 5, TimeUnit.SECONDS);
    }

    /** Pings every connection; terminates those silent for more than two intervals (dropped without a close). */
    private void sweep() {
        long deadline = System.nanoTime() - 2 * pingInterval.toNanos();
        for (Connection c : open) {
            if (c.lastInboundNanos() - deadline < 0) {
                LOG.log(System.Logger.Level.DEBUG, "connection {0} silent for too long; dropping", c.id());
                c.terminate();
            } else {
                c.ping();
            }
        }
    }

    public int openConnections() {
        return open.size();
    }

    public Map<String, Long> openByProtocol() {
        Map<String, Long> out = new java.util.TreeMap<>();
        openByProtocol.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    public long slowConsumersClosed() {
        return slowConsumers.sum();
    }

    /** Closes every connection with 1001 (server going away); their cleanup runs as usual. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Connection c : open) {
            c.close(Connection.CLOSE_GOING_AWAY, "server shutting down");
        }
    }
}
