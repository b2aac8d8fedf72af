package dev.collab.testing;

import dev.collab.Main;
import dev.collab.config.ClusterSettings;
import dev.collab.config.IntegrationSettings;
import dev.collab.config.Settings;
import jakarta.json.Json;
import jakarta.json.JsonReader;
import jakarta.json.JsonStructure;

import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The real server on a free loopback port with its own database file, plus an HTTP client and WebSocket clients
 * ({@link WsClient}) to talk to it. {@link #start(Path, Map)} adds the integration tests' defaults (an admin token,
 * small messages, quick unloads); {@link #startWith(Map)} only the port and host.
 */
public final class TestServer implements AutoCloseable {
    public static final String ADMIN_TOKEN = "secret";
    public static final int MAX_MESSAGE_BYTES = 4096;

    public final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Main.CollabServer server;
    private final java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();

    private TestServer(Main.CollabServer server) {
        this.server = server;
    }

    public static TestServer start(Path db) {
        return start(db, Map.of());
    }

    /** Starts with the test defaults overridden by {@code overrides} (environment variable names). */
    public static TestServer start(Path db, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("COLLAB_DB_PATH", db.toString());
        env.put("COLLAB_ADMIN_TOKEN", ADMIN_TOKEN);
        env.put("COLLAB_MAX_MESSAGE_BYTES", Integer.toString(MAX_MESSAGE_BYTES));
        env.put("COLLAB_ROOM_IDLE_UNLOAD_MS", "200");
        env.putAll(overrides);
        return startWith(env);
    }

    /** Starts with exactly {@code environment} (variable names) on a free port of 127.0.0.1. */
    public static TestServer startWith(Map<String, String> environment) {
        Map<String, String> env = new HashMap<>();
        env.put("SERVER_PORT", "0");
        env.put("SERVER_HOST", "127.0.0.1");
        env.putAll(environment);
        return new TestServer(Main.CollabServer.start(Settings.load(env), ClusterSettings.load(env),
                IntegrationSettings.load(env)));
    }

    public int port() {
        return server.port();
    }

    /** The running server itself (its connections, rooms and store). */
    public Main.CollabServer server() {
        return server;
    }

    /** A JSON-protocol client on /ws/fabric (either id may be null: left out of the query). */
    public WsClient connect(String documentId, String clientId) throws Exception {
        return WsClient.connect(http, WsClient.jsonUri(port(), documentId, clientId));
    }

    /** A WebSocket client on any path (and query) of this server. */
    public WsClient connectTo(String name, String pathAndQuery) throws Exception {
        return WsClient.connect(http, name, URI.create("ws://127.0.0.1:" + port() + pathAndQuery));
    }

    /** A response: status, body parsed when it is JSON (else null), and the raw response. */
    public record Reply(int status, JsonStructure body, HttpResponse<String> raw) {
        @Override
        public String toString() {
            return status + " " + raw.headers().firstValue("content-type").orElse("?") + " " + raw.body();
        }
    }

    public Reply get(String path, String authorization) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                .timeout(Duration.ofSeconds(5)).GET();
        if (authorization != null) {
            req.header("Authorization", authorization);
        }
        return reply(http.send(req.build(), HttpResponse.BodyHandlers.ofString()));
    }

    /** Any method, with an optional binary body; {@code authorization} null sends none. */
    public Reply request(String method, String path, String authorization, byte[] body) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            req.header("Authorization", authorization);
        }
        if (body != null) {
            req.header("Content-Type", "application/octet-stream");
        }
        return reply(http.send(req.build(), HttpResponse.BodyHandlers.ofString()));
    }

    private static Reply reply(HttpResponse<String> res) {
        JsonStructure body = null;
        boolean json = res.headers().firstValue("content-type").orElse("").startsWith("application/json");
        if (json) {
            try (JsonReader r = Json.createReader(new StringReader(res.body()))) {
                body = r.read();
            }
        }
        return new Reply(res.statusCode(), body, res);
    }

    public Reply admin(String path) throws Exception {
        return get(path, "Bearer " + ADMIN_TOKEN);
    }

    /** Stops the server (once; later calls do nothing). */
    @Override
    public void close() {
        if (stopped.compareAndSet(false, true)) {
            server.stop();
        }
    }
}
