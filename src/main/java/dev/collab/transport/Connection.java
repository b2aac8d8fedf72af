package dev.collab.transport;

import io.helidon.websocket.WsCloseCodes;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One WebSocket connection's outbound side. Every frame (messages, pings, pongs, the close) goes through one
 * bounded queue with a single writer at a time: a virtual thread started when something is queued and the
 * connection is idle, which writes everything queued — several frames per socket write — and ends. So an idle
 * connection holds no writer thread, a busy one pays one hand-off and one write per burst rather than per frame,
 * and a client that stops reading fills only its own queue; past the byte bound it is closed as a slow consumer,
 * and nobody else waits for it. Frames are encoded when queued, once for all the receivers of one message.
 */
public final class Connection implements Outbound {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    private static final AtomicLong IDS = new AtomicLong();
    /** A burst is written in pieces of about this size, so one write never gathers an unbounded amount. */
    private static final int MAX_WRITE_BYTES = 256 * 1024;

    /** A frame ready for the wire; {@code kind} null for control frames (not counted as messages). */
    private record Frame(byte[] frame, String kind, int payloadBytes, boolean close, Iterator<?> parts) {
        Frame(byte[] frame, String kind, int payloadBytes, boolean close) {
            this(frame, kind, payloadBytes, close, null);
        }

        /** Bytes counted in the bound while queued (parts: their weight, see {@link #sendParts}). */
        long size() {
            return parts == null ? frame.length : payloadBytes;
        }
    }

    /**
     * The last message encoded on this thread: a room relays one message to all its peers from one thread, so
     * each receiver after the first finds the frame already built. Weak, so a long-lived thread does not keep
     * the last frame it encoded once the queues have sent it.
     */
    private static final class LastEncoded {
        java.lang.ref.WeakReference<Object> message = new java.lang.ref.WeakReference<>(null);
        java.lang.ref.WeakReference<Frame> frame = new java.lang.ref.WeakReference<>(null);
        ProtocolHandler.Factory kinds;
    }

    private static final ThreadLocal<LastEncoded> LAST_ENCODED = ThreadLocal.withInitial(LastEncoded::new);
    private static final byte[] EMPTY = new byte[0];

    private final long id = IDS.incrementAndGet();
    private final String protocol;
    private final String remoteAddress;
    private final long maxQueuedBytes;
    private final ConcurrentLinkedQueue<Frame> outbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile boolean abandoned;     // closed ahead of the queue: parts being sent stop too
    private final Runnable onFinished;
    private final Runnable onSlowConsumer;
    private final TransportEvents events;
    private final ProtocolHandler.Factory kinds;
    private volatile WsSocket socket;
    private final java.util.function.LongSupplier nanoClock;
    private volatile long lastInboundNanos;
    private volatile Runnable protocolCleanup = () -> { };
    private volatile int closeCode = WsCloseCodes.NORMAL_CLOSE;
    private volatile String closeReason = "";
    /** Refusals on this connection by reason: the first is logged at once, the counts when it closes. */
    private final java.util.Map<String, java.util.concurrent.atomic.LongAdder> refusals =
            new java.util.concurrent.ConcurrentHashMap<>(2);

    Connection(String protocol, String remoteAddress, long maxQueuedBytes, Runnable onFinished,
               Runnable onSlowConsumer, TransportEvents events, ProtocolHandler.Factory kinds,
               java.util.function.LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.lastInboundNanos = nanoClock.getAsLong();
        this.events = events;
        this.kinds = kinds;
        this.protocol = protocol;
        this.remoteAddress = remoteAddress;
        this.maxQueuedBytes = maxQueuedBytes;
        this.onFinished = onFinished;
        this.onSlowConsumer = onSlowConsumer;
    }

    /** Starts sending (what was queued before the socket was ready goes out now). */
    void start(WsSocket socket) {
        this.socket = socket;
        scheduleDrain();
    }

    @Override
    public long id() {
        return id;
    }

    public String protocol() {
        return protocol;
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public boolean isOpen() {
        return !closing.get();
    }

    @Override
    public void sendText(String text) {
        enqueue(encoded(text));
    }

    @Override
    public void sendBinary(byte[] data) {
        enqueue(encoded(data));
    }

    /**
     * Sends messages (String text, byte[] binary) produced one by one as the connection gets to them, in order with
     * everything else: a large document's state goes out in parts without being queued at once, so it may exceed
     * the outbound bound in total and the joiner is not taken for a slow consumer. While queued it counts as a
     * quarter of the bound at most (a client asking again and again without reading still fills its queue);
     * messages queued behind it count as usual, so a client that stops reading is still closed.
     */
    @Override
    public void sendParts(Iterator<?> messages, long estimatedBytes) {
        enqueue(new Frame(EMPTY, null, (int) Math.min(estimatedBytes, maxQueuedBytes / 4), false, messages));
    }

    private Frame encoded(Object message) {
        LastEncoded last = LAST_ENCODED.get();
        Frame cached = last.frame.get();
        if (cached != null && last.message.get() == message && last.kinds == kinds) {
            return cached;
        }
        Frame frame;
        if (message instanceof String text) {
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            frame = new Frame(WsFrames.frame(WsFrameReader.OP_TEXT, utf8), kinds.kindOf(text), utf8.length, false);
        } else {
            byte[] data = (byte[]) message;
            frame = new Frame(WsFrames.frame(WsFrameReader.OP_BINARY, data), kinds.kindOf(data), data.length, false);
        }
        last.message = new java.lang.ref.WeakReference<>(message);
        last.frame = new java.lang.ref.WeakReference<>(frame);
        last.kinds = kinds;
        return frame;
    }

    /** A WebSocket ping (to a connection that has been silent). */
    void ping() {
        enqueue(new Frame(WsFrames.frame(WsFrameReader.OP_PING, EMPTY), null, 0, false));
    }

    /** The protocol's own keepalive ({@link ProtocolHandler.Factory#keepalive}), for clients that cannot see pings. */
    void keepalive() {
        switch (kinds.keepalive()) {
            case null -> { }
            case String text -> sendText(text);
            case byte[] data -> sendBinary(data);
            default -> throw new IllegalStateException("a keepalive is a String or a byte[]");
        }
    }

    void pong(byte[] data) {
        enqueue(new Frame(WsFrames.frame(WsFrameReader.OP_PONG, data), null, data.length, false));
    }

    /**
     * Counts a refusal (bad or oversized message, rate limit, read-only write, denied document, ...) in the metrics
     * and the log: the first of each reason on this connection is logged at once, the rest are counted and logged
     * as one line per reason when the connection finishes, never one line per message.
     */
    /** {@link #reportRefused(String)} with what the first log line should say about it. */
    @Override
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

    /** The close code sent or received (1006 when the connection dropped), 1000 while open. */
    @Override
    public int closeCode() {
        return closeCode;
    }

    /** The close reason that went with {@link #closeCode()}; empty when none was given. */
    @Override
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
        lastInboundNanos = nanoClock.getAsLong();
    }

    /** How long since the last inbound frame, on the connection's clock. */
    java.time.Duration silentFor() {
        return java.time.Duration.ofNanos(nanoClock.getAsLong() - lastInboundNanos);
    }

    /** Sends a close frame after what is already queued; the connection is cleaned up once it is out. */
    @Override
    public void close(int code, String reason) {
        if (closing.compareAndSet(false, true)) {
            if (closeReason.isEmpty() && closeCode == WsCloseCodes.NORMAL_CLOSE) {
                closeCode = code;
                closeReason = reason;
            }
            outbox.add(closeFrame(code, reason));
            scheduleDrain();
        }
    }

    private static Frame closeFrame(int code, String reason) {
        return new Frame(WsFrames.close(code, reason), null, 0, true);
    }

    private void enqueue(Frame item) {
        if (closing.get()) {
            return;
        }
        long queued = queuedBytes.addAndGet(item.size());
        if (queued > maxQueuedBytes) {
            queuedBytes.addAndGet(-item.size());
            LOG.log(System.Logger.Level.WARNING, "closing slow consumer {0} ({1}): {2} bytes unsent",
                    id, remoteAddress, queued - item.size());
            onSlowConsumer.run();
            closeNow(WsCloseCodes.TRY_AGAIN_LATER, "slow consumer: too much unsent data");
            return;
        }
        outbox.add(item);
        scheduleDrain();
    }

    /** Starts a drainer unless one is running (or the socket is not ready yet: start() drains then). */
    private void scheduleDrain() {
        if (socket != null && draining.compareAndSet(false, true)) {
            Thread.ofVirtual().name("ws-writer-" + id).start(this::drain);
        }
    }

    /** Closes ahead of whatever is queued (the queue is what we are giving up on). */
    private void closeNow(int code, String reason) {
        if (closing.compareAndSet(false, true)) {
            closeCode = code;
            closeReason = reason;
            abandoned = true;
            outbox.clear();
            queuedBytes.set(0);
            outbox.add(closeFrame(code, reason));
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
        WsSocket s = socket;
        List<byte[]> batch = new ArrayList<>();
        List<Frame> sent = new ArrayList<>();
        try {
            while (true) {
                Frame item = outbox.poll();
                if (item == null) {
                    draining.set(false);
                    // something queued between the poll and the reset is ours to send if no one else took it
                    if (outbox.isEmpty() || !draining.compareAndSet(false, true)) {
                        return;
                    }
                    continue;
                }
                int bytes = 0;
                boolean closed = false;
                while (item != null) {
                    queuedBytes.addAndGet(-item.size());
                    if (item.parts() != null) {
                        write(s, batch, sent);
                        sendParts(s, item.parts());
                        bytes = 0;
                        item = outbox.poll();
                        continue;
                    }
                    batch.add(item.frame());
                    sent.add(item);
                    bytes += item.frame().length;
                    if (item.close()) {
                        closed = true;
                        break;
                    }
                    item = bytes < MAX_WRITE_BYTES ? outbox.poll() : null;
                }
                write(s, batch, sent);
                if (closed) {
                    s.closeSent();
                    finish();       // the drainer stays "running" for good: nothing is sent after a close
                    return;
                }
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "send to connection " + id + " failed", t);
            terminate();
        }
    }

    private void write(WsSocket s, List<byte[]> batch, List<Frame> sent) {
        if (batch.isEmpty()) {
            return;
        }
        s.write(batch);
        for (Frame o : sent) {
            if (o.kind() != null) {
                events.outbound(protocol, o.kind(), o.payloadBytes());
            }
        }
        batch.clear();
        sent.clear();
    }

    /** Encodes and writes the parts one at a time; stops when the connection is closed ahead of its queue. */
    private void sendParts(WsSocket s, Iterator<?> messages) {
        while (!abandoned && messages.hasNext()) {
            Frame frame = switch (messages.next()) {
                case String text -> {
                    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
                    yield new Frame(WsFrames.frame(WsFrameReader.OP_TEXT, utf8), kinds.kindOf(text), utf8.length, false);
                }
                case byte[] data -> new Frame(WsFrames.frame(WsFrameReader.OP_BINARY, data), kinds.kindOf(data),
                        data.length, false);
                default -> throw new IllegalArgumentException("parts are String or byte[]");
            };
            s.write(List.of(frame.frame()));
            events.outbound(protocol, frame.kind(), frame.payloadBytes());
        }
    }

    /** Drops the socket without a close handshake (dead peers) and cleans up. */
    void terminate() {
        abandoned = true;
        if (closing.compareAndSet(false, true)) {
            closeCode = 1006;
            closeReason = "connection dropped";
        }
        WsSocket s = socket;
        if (s != null) {
            try {
                s.abort();
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
