package dev.collab.protocol;

import dev.collab.transport.Outbound;
import dev.collab.transport.ProtocolHandler;
import dev.collab.transport.UpgradeRequest;
import io.helidon.http.WritableHeaders;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A protocol session's connection without a socket, in the spirit of Netty's {@code EmbeddedChannel}: the test
 * feeds messages in ({@link #text}, {@link #binary}) the way the transport's reader would, and reads what the
 * session sent ({@link #next}), in order, as the client would see it. Messages the session sends from a room's
 * owner arrive asynchronously, so reads wait (up to {@link #WAIT_SECONDS} s) for the next one; nothing sleeps.
 * Like the real connection, nothing is sent after a close, and {@link #finish} runs the session's cleanup once.
 */
public final class EmbeddedConnection implements Outbound {
    public static final long WAIT_SECONDS = 5;
    private static final AtomicLong IDS = new AtomicLong(1_000_000);
    private static final Object CLOSED = new Object();

    /** A close the session sent. */
    public record Close(int code, String reason) { }

    private final long id = IDS.incrementAndGet();
    private final BlockingQueue<Object> sent = new LinkedBlockingQueue<>();
    private final Map<String, AtomicLong> refusals = new ConcurrentHashMap<>();
    private final AtomicReference<Close> close = new AtomicReference<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private ProtocolHandler handler;
    private boolean finished;

    /** Creates the session as the transport would for an upgrade to {@code path} with {@code query}, and opens it. */
    public static EmbeddedConnection open(ProtocolHandler.Factory factory, String path, Map<String, String> query) {
        EmbeddedConnection connection = new EmbeddedConnection();
        UpgradeRequest request = new UpgradeRequest(path, query, WritableHeaders.create());
        connection.handler = factory.create(request, connection);
        connection.handler.onOpen();
        return connection;
    }

    public ProtocolHandler handler() {
        return handler;
    }

    // ---- in: what the transport's reader would hand the session ----

    public void text(String message) {
        if (isOpen()) {
            handler.onText(message);
        }
    }

    public void text(String format, Object... args) {
        text(String.format(format, args));
    }

    public void binary(byte[] message) {
        if (isOpen()) {
            handler.onBinary(message);
        }
    }

    /** The connection is gone (the client's close, a drop, or after the server's close): the session cleans up. */
    public void finish() {
        if (!finished) {
            finished = true;
            handler.onClosed();
        }
    }

    // ---- out: what the client would read ----

    /** The next message the session sent (String or byte[]); fails when none comes, or the connection closed. */
    public Object next() {
        Object m = poll();
        if (m == null) {
            fail("no message within " + WAIT_SECONDS + " s" + (close.get() != null ? "; closed: " + close.get() : ""));
        }
        if (m == CLOSED) {
            fail("the session closed the connection (" + close.get() + ") instead of sending a message");
        }
        return m;
    }

    public String nextText() {
        return assertInstanceOf(String.class, next(), "a text message");
    }

    public byte[] nextBinary() {
        return assertInstanceOf(byte[].class, next(), "a binary message");
    }

    /** Skips messages until one satisfies {@code test}; returns it. */
    public <T> T nextMatching(Class<T> type, java.util.function.Predicate<T> test, String what) {
        List<Object> skipped = new ArrayList<>();
        while (true) {
            Object m = poll();
            if (m == null || m == CLOSED) {
                fail("no " + what + " within " + WAIT_SECONDS + " s; skipped " + describe(skipped)
                        + (m == CLOSED ? "; closed: " + close.get() : ""));
            }
            if (type.isInstance(m) && test.test(type.cast(m))) {
                return type.cast(m);
            }
            skipped.add(m);
        }
    }

    /** Waits for the session to close the connection; returns the code and reason (what was sent before is skipped). */
    public Close awaitClose() {
        try {
            assertTrue(closed.await(WAIT_SECONDS, TimeUnit.SECONDS), "the session did not close the connection");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return close.get();
    }

    /** The messages sent so far and not read yet, without waiting. */
    public List<Object> drain() {
        List<Object> out = new ArrayList<>();
        sent.drainTo(out);
        out.remove(CLOSED);
        return out;
    }

    public long refused(String reason) {
        AtomicLong n = refusals.get(reason);
        return n == null ? 0 : n.get();
    }

    public Close closeSent() {
        return close.get();
    }

    private Object poll() {
        try {
            return sent.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static String describe(List<Object> messages) {
        List<String> out = new ArrayList<>();
        for (Object m : messages) {
            out.add(m instanceof byte[] b ? "binary " + java.util.HexFormat.of().formatHex(b) : String.valueOf(m));
        }
        return out.toString();
    }

    // ---- Outbound ----

    @Override
    public long id() {
        return id;
    }

    @Override
    public String remoteAddress() {
        return "192.0.2.1";
    }

    @Override
    public boolean isOpen() {
        return close.get() == null && !finished;
    }

    @Override
    public void sendText(String text) {
        assertNotNull(text);
        if (isOpen()) {
            sent.add(text);
        }
    }

    @Override
    public void sendBinary(byte[] data) {
        assertNotNull(data);
        if (isOpen()) {
            sent.add(data.clone());
        }
    }

    /** Parts are produced at once, in order (the real connection produces them as it gets to them). */
    @Override
    public void sendParts(Iterator<?> messages, long estimatedBytes) {
        while (isOpen() && messages.hasNext()) {
            Object m = messages.next();
            switch (m) {
                case String s -> sent.add(s);
                case byte[] b -> sent.add(b.clone());
                default -> fail("a part is neither String nor byte[]: " + m);
            }
        }
    }

    @Override
    public synchronized void close(int code, String reason) {
        if (close.compareAndSet(null, new Close(code, reason))) {
            assertTrue(reason.getBytes(StandardCharsets.UTF_8).length <= 123, "a close reason fits a control frame");
            sent.add(CLOSED);
            closed.countDown();
        }
    }

    @Override
    public void reportRefused(String reason, String detail) {
        refusals.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
    }

    @Override
    public int closeCode() {
        Close c = close.get();
        return c == null ? 1000 : c.code();
    }

    @Override
    public String closeReason() {
        Close c = close.get();
        return c == null ? "" : c.reason();
    }

    /** Asserts the session closed with {@code code}. */
    public void assertClosedWith(int code) {
        assertEquals(code, awaitClose().code(), "close code");
    }
}
