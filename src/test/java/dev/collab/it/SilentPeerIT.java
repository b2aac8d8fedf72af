package dev.collab.it;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer that vanishes without closing its TCP connection (network cut, sleeping laptop) never sends a close
 * frame nor a FIN: only the server's own pings can find it. With a 1 s ping interval it must be dropped, its
 * awareness removed for the others, and the counts lowered, within a few seconds.
 */
class SilentPeerIT {
    @TempDir
    Path dir;

    @Test
    void aPeerThatStopsAnsweringPingsIsDropped() throws Exception {
        try (TestServer server = TestServer.start(dir.resolve("silent.db"), Map.of("COLLAB_PING_INTERVAL_SECONDS", "1"));
             WsClient watcher = server.connect("silent-doc", "watcher");
             Socket silent = new Socket("127.0.0.1", server.port())) {
            watcher.nextStrict("connected");

            OutputStream out = silent.getOutputStream();
            out.write(("GET /ws/fabric?documentId=silent-doc&clientID=silent HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + server.port() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String response = readHeaders(silent.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 101"), response);
            out.write(maskedTextFrame("{\"type\":\"awareness\",\"state\":{\"user\":\"silent\"}}"));
            out.flush();
            JsonObject seen = watcher.nextStrict("awareness");
            assertEquals("silent", seen.getString("clientID"));
            assertEquals(2, ((JsonObject) server.admin("/admin/documents/silent-doc").body()).getInt("connections"));

            // from now on the silent peer reads nothing and answers nothing, but keeps its socket open
            JsonObject gone = watcher.next("awareness", Duration.ofSeconds(10));
            assertEquals("silent", gone.getString("clientID"));
            assertEquals(JsonValue.NULL, gone.get("state"));
            assertEquals(1, ((JsonObject) server.admin("/admin/documents/silent-doc").body()).getInt("connections"));
            // the watcher answers pings (the JDK client does so by itself), so it is still there
            assertTrue(watcher.isOpen());
            watcher.roundTrip();
        }
    }

    private static String readHeaders(InputStream in) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            buf.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return buf.toString(StandardCharsets.US_ASCII);
    }

    /** A client-to-server text frame (FIN, masked), as RFC 6455 requires of clients. */
    private static byte[] maskedTextFrame(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {0x12, 0x34, 0x56, 0x78};
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x81);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        }
        frame.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }
}
