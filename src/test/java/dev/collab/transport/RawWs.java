package dev.collab.transport;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A bare WebSocket client over {@link java.net.http.WebSocket} for any of the three protocols: every complete
 * inbound message (a String for text, a byte[] for binary) goes to a queue a test can await with a timeout.
 */
final class RawWs implements WebSocket.Listener, AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(15);

    record Close(int code, String reason) {
    }

    final String name;
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    /** Everything received, in order (never consumed). */
    final List<Object> log = java.util.Collections.synchronizedList(new ArrayList<>());
    private final StringBuilder text = new StringBuilder();
    private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
    final CompletableFuture<Close> closed = new CompletableFuture<>();
    private WebSocket ws;

    private RawWs(String name) {
        this.name = name;
    }

    static RawWs connect(HttpClient http, String name, URI uri) throws Exception {
        RawWs c = new RawWs(name);
        c.ws = http.newWebSocketBuilder().connectTimeout(TIMEOUT).buildAsync(uri, c)
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return c;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
            String s = text.toString();
            text.setLength(0);
            log.add(s);
            inbox.add(s);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        byte[] chunk = new byte[data.remaining()];
        data.get(chunk);
        binary.writeBytes(chunk);
        if (last) {
            byte[] all = binary.toByteArray();
            binary.reset();
            log.add(all);
            inbox.add(all);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(new Close(statusCode, reason));
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(new Close(-1, String.valueOf(error)));
    }

    void sendText(String s) {
        ws.sendText(s, true).join();
    }

    void sendBinary(byte[] b) {
        ws.sendBinary(ByteBuffer.wrap(b), true).join();
    }

    /** The next message (any kind). */
    Object next() throws InterruptedException {
        Object m = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(m, () -> name + ": nothing received within " + TIMEOUT + "; log " + describe(log));
        return m;
    }

    /** Takes messages until one matches; returns every message taken (the match last). */
    List<Object> until(Predicate<Object> match, String what) throws InterruptedException {
        List<Object> taken = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Object m = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
            if (m == null) {
                throw new AssertionError(name + ": no " + what + " within " + TIMEOUT + "; took " + describe(taken)
                        + (closed.isDone() ? "; closed " + closed.join() : ""));
            }
            taken.add(m);
            if (match.test(m)) {
                return taken;
            }
        }
    }

    Close awaitClose() throws Exception {
        return closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    static String describe(List<Object> messages) {
        List<String> out = new ArrayList<>();
        synchronized (messages) {
            for (Object m : messages) {
                out.add(m instanceof byte[] b ? "binary[" + b.length + "]" : String.valueOf(m));
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        if (ws != null && !ws.isOutputClosed()) {
            ws.sendClose(1000, "").exceptionally(t -> null);
        }
        if (ws != null) {
            ws.abort();
        }
    }
}
