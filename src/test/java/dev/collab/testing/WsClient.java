package dev.collab.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The WebSocket test client, over {@link java.net.http.WebSocket}, for any of the three protocols: every complete
 * inbound message (a {@code String} for text, a {@code byte[]} for binary) goes to a queue a test awaits with a
 * deadline. Raw messages: {@link #nextMessage()}, {@link #until}; the JSON protocol's objects: {@link #next()},
 * {@link #next(String)} (messages of other types are kept for later calls), {@link #nextStrict(String)}.
 */
public final class WsClient implements WebSocket.Listener, AutoCloseable {
    public static final Duration TIMEOUT = Duration.ofSeconds(15);

    /** How the server closed the connection ({@code -1}: the connection failed without a close frame). */
    public record Close(int code, String reason) {
    }

    public final String name;
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    /** Messages passed over by {@link #next(String)}, in arrival order; later calls look here first. */
    private final List<Object> skipped = new ArrayList<>();
    /** Everything received, in order (never consumed). */
    public final List<Object> log = Collections.synchronizedList(new ArrayList<>());
    private final StringBuilder text = new StringBuilder();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
    private final LinkedBlockingQueue<ByteBuffer> pongs = new LinkedBlockingQueue<>();
    public final CompletableFuture<Close> closed = new CompletableFuture<>();
    private WebSocket ws;

    private WsClient(String name) {
        this.name = name;
    }

    public static WsClient connect(HttpClient http, String name, URI uri) throws Exception {
        WsClient c = new WsClient(name);
        c.ws = http.newWebSocketBuilder().connectTimeout(TIMEOUT).buildAsync(uri, c)
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return c;
    }

    /** A client named by the URI's query (the document and client ids, for the JSON protocol). */
    public static WsClient connect(HttpClient http, URI uri) throws Exception {
        return connect(http, uri.getQuery(), uri);
    }

    /** The JSON protocol's endpoint on {@code port} for a document and client id (either may be null: left out). */
    public static URI jsonUri(int port, String documentId, String clientId) {
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

    // ---- listener -----------------------------------------------------------------------------------------

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
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
        ByteBuffer copy = ByteBuffer.allocate(message.remaining());
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
        closed.complete(new Close(-1, String.valueOf(error)));
    }

    // ---- sending ------------------------------------------------------------------------------------------

    public void sendText(String s) throws Exception {
        ws.sendText(s, true).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A JSON protocol message. */
    public void send(String json) throws Exception {
        sendText(json);
    }

    public void sendBinary(byte[] b) throws Exception {
        ws.sendBinary(ByteBuffer.wrap(b), true).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Sends one message as several text frames (the last one with FIN). Stops early when the server has closed
     * the connection meanwhile (it may refuse the message before the last fragment), which the caller then sees
     * through {@link #awaitClose()}.
     */
    public void sendFragmented(String... parts) throws Exception {
        for (int i = 0; i < parts.length; i++) {
            try {
                ws.sendText(parts[i], i == parts.length - 1).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException && ws.isOutputClosed()) {
                    return;
                }
                throw e;
            }
        }
    }

    /** Sends a WebSocket ping and returns the payload of the pong that answers it. */
    public byte[] ping(byte[] payload) throws Exception {
        ws.sendPing(ByteBuffer.wrap(payload)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        ByteBuffer pong = pongs.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(pong, () -> name + ": no pong within " + TIMEOUT.toMillis() + " ms");
        byte[] out = new byte[pong.remaining()];
        pong.get(out);
        return out;
    }

    /** Closes with a close frame (1000) and waits for the server's answer. */
    public Close closeNormally() throws Exception {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return awaitClose();
    }

    /** Drops the TCP connection without a close frame. */
    public void abort() {
        ws.abort();
    }

    public boolean isOpen() {
        return !ws.isInputClosed() && !ws.isOutputClosed();
    }

    // ---- receiving: raw messages ----------------------------------------------------------------------------

    /** The next message of any kind (skipped ones first): a String or a byte[]. */
    public Object nextMessage() throws InterruptedException {
        if (!skipped.isEmpty()) {
            return skipped.remove(0);
        }
        Object m = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(m, () -> name + ": nothing received within " + TIMEOUT.toMillis() + " ms; log "
                + describe(log) + closeInfo());
        return m;
    }

    /** Takes messages until one matches; returns every message taken (the match last). */
    public List<Object> until(Predicate<Object> match, String what) throws InterruptedException {
        List<Object> taken = new ArrayList<>();
        while (!skipped.isEmpty()) {
            Object m = skipped.remove(0);
            taken.add(m);
            if (match.test(m)) {
                return taken;
            }
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Object m = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
            if (m == null) {
                throw new AssertionError(name + ": no " + what + " within " + TIMEOUT + "; took " + describe(taken)
                        + closeInfo());
            }
            taken.add(m);
            if (match.test(m)) {
                return taken;
            }
        }
    }

    /** Messages for a failure report: text as is, binary as its length. */
    public static String describe(List<Object> messages) {
        List<String> out = new ArrayList<>();
        synchronized (messages) {
            for (Object m : messages) {
                out.add(m instanceof byte[] b ? "binary[" + b.length + "]" : String.valueOf(m));
            }
        }
        return out.toString();
    }

    // ---- receiving: JSON protocol objects -------------------------------------------------------------------

    /** The next message, which must be a JSON object, whatever its type (skipped messages first). */
    public JsonObject next() throws InterruptedException {
        return json(nextMessage());
    }

    /** The next message, which must be of {@code type}. */
    public JsonObject nextStrict(String type) throws InterruptedException {
        JsonObject m = next();
        assertEquals(type, m.getString("type", null), () -> name + ": expected a " + type + " message, got " + m);
        return m;
    }

    /** The first message of {@code type}; messages of other types are kept for later calls. */
    public JsonObject next(String type) throws InterruptedException {
        return next(type, TIMEOUT);
    }

    /** {@link #next(String)} with its own timeout. */
    public JsonObject next(String type, Duration timeout) throws InterruptedException {
        for (Iterator<Object> it = skipped.iterator(); it.hasNext(); ) {
            Object m = it.next();
            if (isType(m, type)) {
                it.remove();
                return json(m);
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Object m = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
            if (m == null) {
                fail(name + ": no " + type + " message within " + timeout.toMillis() + " ms; got " + describe(skipped)
                        + closeInfo());
            }
            if (isType(m, type)) {
                return json(m);
            }
            skipped.add(m);
        }
    }

    /** Round trip through the server: every reply to earlier messages sent on this connection is in by now. */
    public void roundTrip() throws Exception {
        send("{\"type\":\"ping\"}");
        next("pong");
    }

    /** Every JSON message received so far and not taken (skipped ones included). */
    public List<JsonObject> drain() {
        List<Object> raw = new ArrayList<>(skipped);
        skipped.clear();
        inbox.drainTo(raw);
        List<JsonObject> out = new ArrayList<>();
        raw.forEach(m -> out.add(json(m)));
        return out;
    }

    public void assertNothingPending() {
        assertEquals(List.of(), drain(), name + " received unexpected messages");
    }

    private boolean isType(Object m, String type) {
        return type.equals(json(m).getString("type", null));
    }

    private JsonObject json(Object m) {
        if (!(m instanceof String s)) {
            throw new AssertionError(name + ": expected a JSON text message, got binary[" + ((byte[]) m).length + "]");
        }
        try (JsonReader r = Json.createReader(new StringReader(s))) {
            return r.readObject();
        } catch (RuntimeException e) {
            throw new AssertionError(name + ": the server sent a non-object: " + s, e);
        }
    }

    // ---- closing ------------------------------------------------------------------------------------------

    public Close awaitClose() throws Exception {
        return closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private String closeInfo() {
        return closed.isDone() ? " (connection closed: " + closed.join() + ")" : "";
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
