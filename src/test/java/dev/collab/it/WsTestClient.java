package dev.collab.it;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;

import java.io.StringReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A JSON-protocol client over {@link java.net.http.WebSocket}: collects every inbound message into a queue and
 * lets a test await the next one (or the next one of a type) with a timeout.
 */
final class WsTestClient implements WebSocket.Listener, AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** How the server closed the connection. */
    record Close(int code, String reason) {
    }

    final String name;
    private final LinkedBlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    /** Messages passed over by {@link #next(String)}, in arrival order; later calls look here first. */
    private final List<JsonObject> skipped = new ArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    final CompletableFuture<Close> closed = new CompletableFuture<>();
    private final LinkedBlockingQueue<java.nio.ByteBuffer> pongs = new LinkedBlockingQueue<>();
    private WebSocket ws;

    private WsTestClient(String name) {
        this.name = name;
    }

    static URI uri(int port, String documentId, String clientId) {
        StringBuilder q = new StringBuilder("ws://127.0.0.1:" + port + "/ws/fabric");
        String sep = "?";
        if (documentId != null) {
            q.append(sep).append("documentId=").append(URLEncoder.encode(documentId, StandardCharsets.UTF_8));
            sep = "&";
        }
        if (clientId != null) {
            q.append(sep).append("clientID=").append(URLEncoder.encode(clientId, StandardCharsets.UTF_8));
        }
        return URI.create(q.toString());
    }

    static WsTestClient connect(HttpClient http, URI uri) throws Exception {
        WsTestClient client = new WsTestClient(uri.getQuery());
        client.ws = http.newWebSocketBuilder().connectTimeout(TIMEOUT).buildAsync(uri, client)
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return client;
    }

    // ---- listener -----------------------------------------------------------------------------------------

    @Override
    public void onOpen(WebSocket webSocket) {
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            String text = partial.toString();
            partial.setLength(0);
            try (JsonReader r = Json.createReader(new StringReader(text))) {
                inbox.add(r.readObject());
            } catch (RuntimeException e) {
                closed.completeExceptionally(new AssertionError("server sent a non-object: " + text, e));
            }
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, java.nio.ByteBuffer data, boolean last) {
        closed.completeExceptionally(new AssertionError("unexpected binary frame on the JSON endpoint"));
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, java.nio.ByteBuffer message) {
        java.nio.ByteBuffer copy = java.nio.ByteBuffer.allocate(message.remaining());
        copy.put(message).flip();
        pongs.add(copy);
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(new Close(statusCode, reason));
        // answer the close handshake like a browser does, so the server need not wait for its timeout
        if (!webSocket.isOutputClosed()) {
            webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "");
        }
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.completeExceptionally(error);
    }

    // ---- sending ------------------------------------------------------------------------------------------

    void send(String json) throws Exception {
        ws.sendText(json, true).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Sends one message as several text frames (the last one with FIN). Stops early when the server has closed
     * the connection meanwhile (it may refuse the message before the last fragment), which the caller then sees
     * through {@link #awaitClose()}.
     */
    void sendFragmented(String... parts) throws Exception {
        for (int i = 0; i < parts.length; i++) {
            try {
                ws.sendText(parts[i], i == parts.length - 1).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof java.io.IOException && ws.isOutputClosed()) {
                    return;
                }
                throw e;
            }
        }
    }

    /** Sends a WebSocket ping and returns the payload of the pong that answers it. */
    byte[] ping(byte[] payload) throws Exception {
        ws.sendPing(java.nio.ByteBuffer.wrap(payload)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        java.nio.ByteBuffer pong = pongs.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(pong, () -> name + ": no pong within " + TIMEOUT.toMillis() + " ms");
        byte[] out = new byte[pong.remaining()];
        pong.get(out);
        return out;
    }

    /** Closes with a close frame (1000) and waits for the server's answer. */
    Close closeNormally() throws Exception {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return awaitClose();
    }

    /** Drops the TCP connection without a close frame. */
    void abort() {
        ws.abort();
    }

    boolean isOpen() {
        return !ws.isInputClosed() && !ws.isOutputClosed();
    }

    // ---- receiving ----------------------------------------------------------------------------------------

    /** The next message, whatever its type (skipped messages first). */
    JsonObject next() throws InterruptedException {
        if (!skipped.isEmpty()) {
            return skipped.remove(0);
        }
        JsonObject m = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(m, () -> name + ": no message within " + TIMEOUT.toMillis() + " ms" + closeInfo());
        return m;
    }

    /** The next message, which must be of {@code type}. */
    JsonObject nextStrict(String type) throws InterruptedException {
        JsonObject m = next();
        assertEquals(type, m.getString("type", null), () -> name + ": expected a " + type + " message, got " + m);
        return m;
    }

    /** The first message of {@code type}; messages of other types are kept for later calls. */
    JsonObject next(String type) throws InterruptedException {
        return next(type, TIMEOUT);
    }

    /** {@link #next(String)} with its own timeout. */
    JsonObject next(String type, Duration timeout) throws InterruptedException {
        for (Iterator<JsonObject> it = skipped.iterator(); it.hasNext(); ) {
            JsonObject m = it.next();
            if (type.equals(m.getString("type", null))) {
                it.remove();
                return m;
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            JsonObject m = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
            if (m == null) {
                fail(name + ": no " + type + " message within " + timeout.toMillis() + " ms; got " + skipped
                        + closeInfo());
            }
            if (type.equals(m.getString("type", null))) {
                return m;
            }
            skipped.add(m);
        }
    }

    /** Round trip through the server: every reply to earlier messages sent on this connection is in by now. */
    void roundTrip() throws Exception {
        send("{\"type\":\"ping\"}");
        next("pong");
    }

    /** Every message received so far and not taken (skipped ones included). */
    List<JsonObject> drain() {
        List<JsonObject> out = new ArrayList<>(skipped);
        skipped.clear();
        inbox.drainTo(out);
        return out;
    }

    void assertNothingPending() {
        assertEquals(List.of(), drain(), name + " received unexpected messages");
    }

    Close awaitClose() throws Exception {
        return closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private String closeInfo() {
        return closed.isDone() ? " (connection closed: " + closed.handle((c, e) -> c != null ? c : e).join() + ")"
                : "";
    }

    @Override
    public void close() {
        if (ws == null || closed.isDone() || ws.isOutputClosed()) {
            if (ws != null) {
                ws.abort();   // already closed, or aborted by the test
            }
            return;
        }
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        try {
            closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception ignored) {
            // closing is best effort here; tests that care assert the close themselves
        }
        ws.abort();
    }
}
