package dev.collab.transport;

import io.helidon.common.buffers.BufferData;
import io.helidon.websocket.WsSession;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One WebSocket connection's outbound side. Helidon's {@code WsSession.send} writes while holding the session's
 * lock (4.5), so a sender would wait for a client that does not read; instead every
 * frame (messages, pings, pongs, the close) goes through one bounded queue with a single drainer at a time: a
 * virtual thread started when something is queued and the connection is idle, which sends everything queued and
 * ends. So an idle connection holds no writer thread, a busy one pays one hand-off per burst rather than per
 * frame, and a client that stops reading fills only its own queue; past the byte bound it is closed as a slow
 * consumer, and nobody else waits for it.
 */
public final class Connection {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    private static final AtomicLong IDS = new AtomicLong();

    /** Close codes used across protocols. */
    public static final int CLOSE_NORMAL = 1000;
    public static final int CLOSE_GOING_AWAY = 1001;
    public static final int CLOSE_POLICY = 1008;
    public static final int CLOSE_TOO_BIG = 1009;
    public static final int CLOSE_INTERNAL = 1011;
    public static final int CLOSE_TRY_AGAIN_LATER = 1013;
    /** The document was deleted: in the 4400-4499 range y-websocket's provider takes as final (no reconnect). */
    public static final int CLOSE_DOCUMENT_DELETED = 4404;

    private sealed interface Outbound {
        int size();
    }

    private record Text(String text) implements Outbound {
        public int size() {
            return text.length();
        }
    }

    private record Binary(byte[] data) implements Outbound {
        public int size() {
            return data.length;
        }
    }

    private record Ping() implements Outbound {
        public int size() {
            return 0;
        }
    }

    private record Pong(byte[] data) implements Outbound {
        public int size() {
            return data.length;
        }
    }

    private record Close(int code, String reason) implements Outbound {
        public int size() {
            return 0;
        }
    }

    private final long id = IDS.incrementAndGet();
    private final String protocol;
    private final String remoteAddress;
    private final long maxQueuedBytes;
    private final ConcurrentLinkedQueue<Outbound> outbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final Runnable onFinished;
    private final Runnable onSlowConsumer;
    private final TransportEvents events;
    private final ProtocolHandler.Factory kinds;
    private volatile WsSession session;
    private volatile Thread reader;
    private volatile long lastInboundNanos = System.nanoTime();
    private volatile Runnable protocolCleanup = () -> { };
    private volatile Runnable keepalive = () -> { };
    private volatile int closeCode = CLOSE_NORMAL;
    private volatile String closeReason = "";
    /** Refusals on this connection by reason: the first is logged at once, the counts when it closes. */
    private final java.util.Map<String, java.util.concurrent.atomic.LongAdder> refusals =
            new java.util.concurrent.ConcurrentHashMap<>(2);

    Connection(String protocol, String remoteAddress, long maxQueuedBytes, Runnable onFinished,
               Runnable onSlowConsumer, TransportEvents events, ProtocolHandler.Factory kinds) {
        this.events = events;
        this.kinds = kinds;
        this.protocol = protocol;
        this.remoteAddress = remoteAddress;
        this.maxQueuedBytes = maxQueuedBytes;
        this.onFinished = onFinished;
        this.onSlowConsumer = onSlowConsumer;
    }

    /** Starts sending; {@code reader} is Helidon's thread reading this connection (it ends when the client goes). */
    void start(WsSession session, Thread reader) {
        this.session = session;
        this.reader = reader;
        scheduleDrain();
    }

    /** False once Helidon's reader thread has ended: the client is gone, whether or not onClose was called. */
    boolean readerAlive() {
        Thread r = reader;
        return r == null || r.isAlive();
    }

    public long id() {
        return id;
    }

    public String protocol() {
        return protocol;
    }

    public String remoteAddress() {
        return remoteAddress;
    }

    public boolean isOpen() {
        return !closing.get();
    }

    public void sendText(String text) {
        enqueue(new Text(text));
    }

    public void sendBinary(byte[] data) {
        enqueue(new Binary(data));
    }

    void ping() {
        enqueue(new Ping());
        keepalive.run();
    }

    void onKeepalive(Runnable action) {
        keepalive = action;
    }

    void pong(byte[] data) {
        enqueue(new Pong(data));
    }

    /**
     * Counts a refusal (bad or oversized message, rate limit, read-only write, denied document, ...) in the metrics
     * and the log: the first of each reason on this connection is logged at once, the rest are counted and logged
     * as one line per reason when the connection finishes, never one line per message.
     */
    public void reportRefused(String reason) {
        reportRefused(reason, null);
    }

    /** {@link #reportRefused(String)} with what the first log line should say about it. */
    public void reportRefused(String reason, String detail) {
        events.refused(reason);
        java.util.concurrent.atomic.LongAdder count = refusals.get(reason);
        if (count == null) {
            java.util.concurrent.atomic.LongAdder fresh = new java.util.concurrent.atomic.LongAdder();
            count = refusals.putIfAbsent(reason, fresh);
            if (count == null) {
                count = fresh;
                LOG.log(System.Logger.Level.INFO, "refused conn={0} protocol={1} addr={2} reason={3}{4}"
                        + " (more on this connection are counted and logged when it closes)",
                        String.valueOf(id), protocol, remoteAddress, reason, detail == null ? "" : ": " + detail);
            }
        }
        count.increment();
    }

    /** How often {@code reason} was refused on this connection. */
    public long refusedCount(String reason) {
        java.util.concurrent.atomic.LongAdder count = refusals.get(reason);
        return count == null ? 0 : count.sum();
    }

    /** The close code sent or received (1006 when the connection dropped), {@value #CLOSE_NORMAL} while open. */
    public int closeCode() {
        return closeCode;
    }

    /** The close reason that went with {@link #closeCode()}; empty when none was given. */
    public String closeReason() {
        return closeReason;
    }

    /** The client closed: remember its code and reason for the close log line (the answer echoes the code). */
    void closedByClient(int code, String reason) {
        if (!closing.get()) {
            closeCode = code;
            closeReason = reason == null ? "" : reason;
        }
    }

    void markInbound() {
        lastInboundNanos = System.nanoTime();
    }

    long lastInboundNanos() {
        return lastInboundNanos;
    }

    /** Sends a close frame after what is already queued; the connection is cleaned up once it is out. */
    public void close(int code, String reason) {
        if (closing.compareAndSet(false, true)) {
            if (closeReason.isEmpty() && closeCode == CLOSE_NORMAL) {
                closeCode = code;
                closeReason = reason;
            }
            outbox.add(new Close(code, reason));
            scheduleDrain();
        }
    }

    private void enqueue(Outbound item) {
        if (closing.get()) {
            return;
        }
        long queued = queuedBytes.addAndGet(item.size());
        if (queued > maxQueuedBytes) {
            queuedBytes.addAndGet(-item.size());
            LOG.log(System.Logger.Level.WARNING, "closing slow consumer {0} ({1}): {2} bytes unsent",
                    id, remoteAddress, queued - item.size());
            onSlowConsumer.run();
            closeNow(CLOSE_TRY_AGAIN_LATER, "slow consumer: too much unsent data");
            return;
        }
        outbox.add(item);
        scheduleDrain();
    }

    /** Starts a drainer unless one is running (or the session is not open yet: start() drains then). */
    private void scheduleDrain() {
        if (session != null && draining.compareAndSet(false, true)) {
            Thread.ofVirtual().name("ws-writer-" + id).start(this::drain);
        }
    }

    /** Closes ahead of whatever is queued (the queue is what we are giving up on). */
    private void closeNow(int code, String reason) {
        if (closing.compareAndSet(false, true)) {
            closeCode = code;
            closeReason = reason;
            outbox.clear();
            queuedBytes.set(0);
            outbox.add(new Close(code, reason));
            scheduleDrain();
        }
    }

    /** The UTF-8 size of a text message (what goes over the wire), without encoding it. */
    static int utf8Length(String text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private void drain() {
        WsSession s = session;
        try {
            while (true) {
                Outbound item = outbox.poll();
                if (item == null) {
                    draining.set(false);
                    // something queued between the poll and the reset is ours to send if no one else took it
                    if (outbox.isEmpty() || !draining.compareAndSet(false, true)) {
                        return;
                    }
                    continue;
                }
                queuedBytes.addAndGet(-item.size());
                switch (item) {
                    case Text t -> {
                        s.send(t.text(), true);
                        events.outbound(protocol, kinds.kindOf(t.text()), utf8Length(t.text()));
                    }
                    case Binary b -> {
                        s.send(BufferData.create(b.data()), true);
                        events.outbound(protocol, kinds.kindOf(b.data()), b.size());
                    }
                    case Ping p -> s.ping(BufferData.empty());
                    case Pong p -> s.pong(BufferData.create(p.data()));
                    case Close c -> {
                        s.close(c.code(), c.reason());
                        finish();       // the drainer stays "running" for good: nothing is sent after a close
                        return;
                    }
                }
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "send to connection " + id + " failed", t);
            terminate();
        }
    }

    /** Drops the socket without a close handshake (dead peers) and cleans up. */
    void terminate() {
        if (closing.compareAndSet(false, true)) {
            closeCode = 1006;
            closeReason = "connection dropped";
        }
        WsSession s = session;
        if (s != null) {
            try {
                s.terminate();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "terminate failed", e);
            }
        }
        finish();
    }

    /** Runs the cleanup exactly once, whichever path gets here first (close frame, error, timeout, send failure). */
    void finish() {
        closing.set(true);
        if (finished.compareAndSet(false, true)) {
            outbox.clear();
            refusals.forEach((reason, count) -> LOG.log(System.Logger.Level.INFO,
                    "refusals conn={0} protocol={1} addr={2} reason={3} count={4}",
                    String.valueOf(id), protocol, remoteAddress, reason, String.valueOf(count.sum())));
            try {
                protocolCleanup.run();
            } finally {
                onFinished.run();
            }
        }
    }

    /** Runs {@code cleanup} when the connection finishes (at once if it already has). */
    void onFinish(Runnable cleanup) {
        protocolCleanup = cleanup;
        if (finished.get()) {
            cleanup.run();
        }
    }

    boolean isFinished() {
        return finished.get();
    }
}
