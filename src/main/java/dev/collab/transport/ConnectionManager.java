package dev.collab.transport;

import io.helidon.websocket.WsCloseCodes;

import io.helidon.websocket.WsUpgradeException;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Owns every open connection: serves the protocols' WebSocket paths, applies the limits every protocol shares
 * ({@link TransportLimits}), pings connections that have been silent, drops those that stopped answering, and
 * counts them.
 */
public final class ConnectionManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConnectionManager.class.getName());

    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final Map<String, LongAdder> openByProtocol = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> openByAddress = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final TransportLimits limits;
    private final TransportEvents events;
    private final AllowedOrigins origins;
    /** Upgrade refusals have no connection to count them on: one line per origin or reason per minute. */
    private final RefusalLog upgradeRefusals;
    /** How long a connection has been silent is measured on this clock (tests move it with their timer). */
    private final LongSupplier nanoClock;
    private volatile boolean closed;

    public ConnectionManager(ScheduledExecutorService timer, TransportLimits limits, TransportEvents events) {
        this(timer, limits, events, System::nanoTime);
    }

    /** With {@code nanoClock} the time base of {@code timer} (the system's, or a test's virtual time). */
    public ConnectionManager(ScheduledExecutorService timer, TransportLimits limits, TransportEvents events,
                             LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.upgradeRefusals = new RefusalLog(java.time.Duration.ofMinutes(1), nanoClock);
        this.timer = timer;
        this.limits = limits;
        this.events = events;
        this.origins = AllowedOrigins.parse(limits.allowedOrigins());
        long ms = limits.pingInterval().toMillis();
        timer.scheduleAtFixedRate(this::sweep, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** The WebSocket paths, for {@code WebServer.Builder.addProtocol}; add each protocol's path to it. */
    public WsEndpoints endpoints() {
        return new WsEndpoints(this);
    }

    /** The WebSocket paths of {@code protocols}, for {@code WebServer.Builder.addProtocol}. */
    public WsEndpoints endpoints(java.util.List<WsProtocol> protocols) {
        WsEndpoints endpoints = endpoints();
        protocols.forEach(p -> endpoints.add(p.path(), p.name(), p.factory()));
        return endpoints;
    }

    TransportLimits limits() {
        return limits;
    }

    TransportEvents events() {
        return events;
    }

    /**
     * Checks shared with the HTTP fallback: the Origin allowlist, then the protocol's own check. {@code report}
     * is false for the fallback's second look at an already refused upgrade, so it is counted once.
     */
    void checkUpgrade(ProtocolHandler.Factory factory, UpgradeRequest request, boolean report)
            throws WsUpgradeException {
        TransportEvents events = report ? this.events : TransportEvents.NONE;
        if (closed) {
            throw new UpgradeRefused(503, "server is shutting down");
        }
        String origin = request.header("Origin").orElse(null);
        if (!origins.allows(origin)) {
            events.refused("origin");
            if (report) {
                logUpgradeRefusal("origin " + origin, "refused upgrade reason=origin origin={1} path={2}{0}",
                        origin, request.path());
            }
            throw new UpgradeRefused(403, "origin " + origin + " is not allowed");
        }
        try {
            factory.checkUpgrade(request);
        } catch (UpgradeRefused e) {
            String reason = e.status() == 401 || e.status() == 403 ? "auth" : "upgrade";
            events.refused(reason);
            if (report) {
                logUpgradeRefusal(reason + " " + e.getMessage(), "refused upgrade reason=" + reason
                        + " code={1} path={2}: {3}{0}", e.status(), request.path(), e.getMessage());
            }
            throw e;
        }
    }

    /** Logs an upgrade refusal unless one with the same key was logged in the last minute (then it is counted). */
    private void logUpgradeRefusal(String key, String pattern, Object... args) {
        long suppressed = upgradeRefusals.admit(key);
        if (suppressed >= 0) {
            Object[] all = new Object[args.length + 1];
            all[0] = suppressed == 0 ? "" : " (and " + suppressed + " more like it in the last minute)";
            System.arraycopy(args, 0, all, 1, args.length);
            LOG.log(System.Logger.Level.INFO, pattern, all);
        }
    }

    /** Registers a new connection, or returns null when its address already has too many. */
    Connection register(String protocol, ProtocolHandler.Factory factory, String peer, UpgradeRequest request) {
        String address = ClientAddress.resolve(peer, request.header("X-Forwarded-For").orElse(null),
                limits.trustedProxies());
        Connection[] holder = new Connection[1];
        Connection c = new Connection(protocol, address, limits.maxQueuedBytes(),
                () -> unregister(holder[0]), () -> events.slowConsumer(protocol), events, factory, nanoClock);
        holder[0] = c;
        open.add(c);
        openByProtocol.computeIfAbsent(protocol, p -> new LongAdder()).increment();
        int fromAddress = openByAddress.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
        if (fromAddress > limits.maxConnectionsPerIp()) {
            c.reportRefused("connections-per-ip");
            c.close(WsCloseCodes.VIOLATED_POLICY, "too many connections from your address");
        }
        return c;
    }

    /** Closes the connection with {@code closeCode} if its handler has not authenticated by the deadline. */
    void enforceAuthDeadline(Connection c, java.util.function.BooleanSupplier authenticated, int closeCode) {
        timer.schedule(() -> {
            if (!c.isFinished() && !authenticated.getAsBoolean()) {
                c.reportRefused("auth-timeout");
                c.close(closeCode, "authentication timeout");
            }
        }, limits.authTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void unregister(Connection c) {
        if (open.remove(c)) {
            openByProtocol.get(c.protocol()).decrement();
            openByAddress.computeIfPresent(c.remoteAddress(), (a, n) -> n.decrementAndGet() <= 0 ? null : n);
        }
        // a close frame went out; if the client never answers it, do not keep its socket forever
        timer.schedule(c::terminate, 5, TimeUnit.SECONDS);
    }

    /**
     * Pings the connections silent for an interval and terminates those silent for two (gone without a FIN, which
     * the reader would have seen at once); every connection gets its protocol's keepalive.
     */
    private void sweep() {
        long interval = limits.pingInterval().toNanos();
        for (Connection c : open) {
            long silent = c.silentFor().toNanos();
            if (silent > 2 * interval) {
                LOG.log(System.Logger.Level.INFO, "connection {0} ({1}) silent for two ping intervals; dropping",
                        c.id(), c.protocol());
                events.refused("heartbeat");
                c.terminate();
            } else {
                if (silent >= interval - interval / 10) {       // a little early: the sweep's period is the interval
                    c.ping();
                }
                c.keepalive();
            }
        }
    }

    public int openConnections() {
        return open.size();
    }

    public Map<String, Long> openByProtocol() {
        Map<String, Long> out = new TreeMap<>();
        openByProtocol.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /**
     * Refuses new upgrades and closes every connection with {@code code} (1012: service restart, so stock clients
     * reconnect by themselves); their cleanup runs as usual. Waits up to {@code waitMillis} for them to finish.
     */
    public void closeAll(int code, String reason, long waitMillis) {
        closed = true;
        for (Connection c : open) {
            c.close(code, reason);
        }
        long deadline = System.nanoTime() + waitMillis * 1_000_000;
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);   // polling a shutdown drain; nothing to await on across all connections
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        closeAll(WsCloseCodes.GOING_AWAY, "server shutting down", 0);
    }
}
