package dev.collab.it;

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

/** The real server on a free port with its own database file, plus an HTTP client to talk to it. */
final class TestServer implements AutoCloseable {
    static final String ADMIN_TOKEN = "secret";
    static final int MAX_MESSAGE_BYTES = 4096;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Main.CollabServer server;
    private final java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();

    private TestServer(Main.CollabServer server) {
        this.server = server;
    }

    static TestServer start(Path db) {
        return start(db, Map.of());
    }

    /** Starts with the test defaults overridden by {@code overrides} (environment variable names). */
    static TestServer start(Path db, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("SERVER_PORT", "0");
        env.put("SERVER_HOST", "127.0.0.1");
        env.put("COLLAB_DB_PATH", db.toString());
        env.put("COLLAB_ADMIN_TOKEN", ADMIN_TOKEN);
        env.put("COLLAB_MAX_MESSAGE_BYTES", Integer.toString(MAX_MESSAGE_BYTES));
        env.put("COLLAB_ROOM_IDLE_UNLOAD_MS", "200");
        env.putAll(overrides);
        return new TestServer(Main.CollabServer.start(Settings.load(env), ClusterSettings.load(env),
                IntegrationSettings.load(env)));
    }

    int port() {
        return server.port();
    }

    WsTestClient connect(String documentId, String clientId) throws Exception {
        return WsTestClient.connect(http, WsTestClient.uri(port(), documentId, clientId));
    }

    /** A response: status, body parsed when it is JSON (else null), and the raw response. */
    record Reply(int status, JsonStructure body, HttpResponse<String> raw) {
        @Override
        public String toString() {
            return status + " " + raw.headers().firstValue("content-type").orElse("?") + " " + raw.body();
        }
    }

    Reply get(String path, String authorization) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                .timeout(Duration.ofSeconds(5)).GET();
        if (authorization != null) {
            req.header("Authorization", authorization);
        }
        return reply(http.send(req.build(), HttpResponse.BodyHandlers.ofString()));
    }

    /** Any method, with an optional binary body; {@code authorization} null sends none. */
    Reply request(String method, String path, String authorization, byte[] body) throws Exception {
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

    Reply admin(String path) throws Exception {
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
