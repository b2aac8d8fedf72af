package dev.collab.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The opening handshake on the real server: accepted upgrades, refusals with their status and reason. */
class UpgradeHandshakeIT {
    @TempDir
    Path dir;
    private TestServer server;

    private int start(Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("COLLAB_DB_PATH", dir.resolve("collab.db").toString());
        env.put("COLLAB_WEB_DIR", dir.resolve("no-web").toString());
        env.putAll(overrides);
        server = TestServer.startWith(env);
        return server.port();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void emptyAllowlistAcceptsAnyOrigin() throws Exception {
        int port = start(Map.of());
        try (FrameClient c = FrameClient.connect(port, "/yjs/any-origin", Map.of("Origin", "https://elsewhere.example"))) {
            assertEquals(101, c.handshake.status(), () -> c.handshake.toString());
            assertTrue(c.handshake.headers().containsKey("sec-websocket-accept"));
        }
    }

    @Test
    void refusalsKeepTheirStatusAndReason() throws Exception {
        int port = start(Map.of("COLLAB_ALLOWED_ORIGINS", "https://editor.example",
                "COLLAB_AUTH_SECRET", "0123456789abcdef0123456789abcdef"));
        try (FrameClient c = FrameClient.connect(port, "/yjs/doc", Map.of("Origin", "https://evil.example"))) {
            assertEquals(403, c.handshake.status());
            assertTrue(c.handshake.body().contains("origin"), c.handshake.body());
        }
        try (FrameClient c = FrameClient.connect(port, "/yjs/doc", Map.of("Origin", "https://editor.example"))) {
            assertEquals(401, c.handshake.status(), () -> c.handshake.toString());
            assertTrue(!c.handshake.body().isBlank(), "a reason in the body");
        }
    }

    @Test
    void acceptKeyFollowsRfc6455() {
        // the example handshake of RFC 6455 section 1.3
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WsUpgrader.accept("dGhlIHNhbXBsZSBub25jZQ=="));
    }
}
