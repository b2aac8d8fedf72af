package dev.collab.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.testing.TestServer;
import dev.collab.testing.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * RFC 6455 at the frame level against the real server, grouped like the Autobahn testsuite's cases: framing and
 * lengths, reserved bits, opcodes, fragmentation with interleaved control frames, UTF-8 (also split across
 * fragments), close codes and payloads, ping/pong payload limits, masking, the size limit, and the server's side of
 * the close handshake. The JSON endpoint's {@code {"type":"ping"}} (answered with a pong message) shows that a
 * message got through.
 */
class Rfc6455FrameIT {
    private static final int MAX_MESSAGE = 64 * 1024;
    private static final String PING_MESSAGE = "{\"type\":\"ping\"}";
    private static final AtomicInteger DOCS = new AtomicInteger();

    @TempDir
    static Path dir;
    private static TestServer server;

    @BeforeAll
    static void start() {
        Map<String, String> env = new HashMap<>();
        env.put("COLLAB_DB_PATH", dir.resolve("collab.db").toString());
        env.put("COLLAB_WEB_DIR", dir.resolve("no-web").toString());
        env.put("COLLAB_MAX_MESSAGE_BYTES", Integer.toString(MAX_MESSAGE));
        env.put("COLLAB_OUTBOUND_QUEUE_BYTES", Integer.toString(4 * MAX_MESSAGE));
        server = TestServer.startWith(env);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static FrameClient open() throws Exception {
        FrameClient c = FrameClient.connect(server.port(), "/ws/fabric?documentId=frames-" + DOCS.incrementAndGet());
        assertEquals(101, c.handshake.status());
        FrameClient.Frame hello = c.read();
        assertEquals(1, hello.opcode());
        assertTrue(hello.text().contains("\"connected\""), hello.text());
        return c;
    }

    /** The next text frame that is the JSON protocol's pong (other messages, such as presence, are skipped). */
    private static void expectPongMessage(FrameClient c) throws Exception {
        while (true) {
            FrameClient.Frame f = c.read();
            assertTrue(f.fin(), "the server does not fragment");
            assertEquals(0, f.rsv());
            if (f.opcode() == 8) {
                throw new AssertionError("closed " + f.closeCode() + " " + new String(f.payload(), 2, f.payload().length - 2, StandardCharsets.UTF_8));
            }
            if (f.opcode() == 1 && f.text().contains("\"pong\"")) {
                return;
            }
        }
    }

    /** The server fails the connection with {@code code}: a close frame with it, then the TCP connection ends. */
    private static void expectFailed(FrameClient c, int code) throws Exception {
        FrameClient.Frame close = c.readUntilClose();
        assertEquals(code, close.closeCode(), () -> "close reason: " + close.text());
        assertTrue(c.awaitEndOfStream(), "the server ends the TCP connection after failing it");
    }

    private static String padded(int bytes) {
        return "{\"type\":\"ping\"" + " ".repeat(bytes - PING_MESSAGE.length()) + "}";
    }

    // --- 1. framing: the three length encodings, at their edges

    @ParameterizedTest
    @ValueSource(ints = {15, 125, 126, 127, 65535, 65536, MAX_MESSAGE})
    void messagesOfEveryLengthEncoding(int length) throws Exception {
        try (FrameClient c = open()) {
            c.sendText(padded(length));
            expectPongMessage(c);
        }
    }

    @Test
    void lengthNotInShortestFormIsRefused() throws Exception {
        try (FrameClient c = open()) {
            byte[] payload = PING_MESSAGE.getBytes(StandardCharsets.UTF_8);
            byte[] frame = new byte[4 + 4 + payload.length];
            frame[0] = (byte) 0x81;
            frame[1] = (byte) (0x80 | 126);
            frame[3] = (byte) payload.length;           // a 16-bit length for a payload under 126 bytes
            System.arraycopy(payload, 0, frame, 8, payload.length);     // mask 0: payload as is
            c.send(frame);
            expectFailed(c, 1002);
        }
    }

    @Test
    void manyMessagesInOneWriteAndOneMessageByteByByte() throws Exception {
        try (FrameClient c = open()) {
            java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < 20; i++) {
                burst.writeBytes(FrameClient.frame(true, 0, 1, PING_MESSAGE.getBytes(StandardCharsets.UTF_8)));
            }
            c.send(burst.toByteArray());
            for (int i = 0; i < 20; i++) {
                expectPongMessage(c);
            }
            for (byte b : FrameClient.frame(true, 0, 1, padded(300).getBytes(StandardCharsets.UTF_8))) {
                c.send(new byte[] {b});
            }
            expectPongMessage(c);
        }
    }

    // --- 2. reserved bits (no extension is negotiated)

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void reservedBitsFailTheConnection(int rsv) throws Exception {
        try (FrameClient c = open()) {
            c.send(FrameClient.frame(true, rsv, 1, PING_MESSAGE.getBytes(StandardCharsets.UTF_8)));
            expectFailed(c, 1002);
        }
    }

    // --- 3. opcodes

    @ParameterizedTest
    @ValueSource(ints = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15})
    void reservedOpcodesFailTheConnection(int opcode) throws Exception {
        try (FrameClient c = open()) {
            c.send(FrameClient.frame(true, 0, opcode, new byte[0]));
            expectFailed(c, 1002);
        }
    }

    // --- 4. fragmentation

    @Test
    void fragmentedMessageWithPingsBetweenItsFragments() throws Exception {
        try (FrameClient c = open()) {
            byte[] text = padded(3000).getBytes(StandardCharsets.UTF_8);
            c.send(false, 1, Arrays.copyOfRange(text, 0, 1000));
            c.send(true, 9, "between".getBytes(StandardCharsets.UTF_8));
            c.send(false, 0, Arrays.copyOfRange(text, 1000, 2000));
            c.send(true, 10, "unsolicited pong".getBytes(StandardCharsets.UTF_8));
            c.send(false, 0, new byte[0]);              // empty fragments are fragments too
            c.send(true, 0, Arrays.copyOfRange(text, 2000, text.length));
            FrameClient.Frame pong = c.read();
            while (pong.opcode() != 10) {
                pong = c.read();
            }
            assertArrayEquals("between".getBytes(StandardCharsets.UTF_8), pong.payload(), "the pong echoes the ping");
            expectPongMessage(c);
        }
    }

    @Test
    void continuationWithoutAMessageFails() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 0, PING_MESSAGE.getBytes(StandardCharsets.UTF_8));
            expectFailed(c, 1002);
        }
    }

    @Test
    void newMessageInsideAFragmentedOneFails() throws Exception {
        try (FrameClient c = open()) {
            c.send(false, 1, "{\"type\"".getBytes(StandardCharsets.UTF_8));
            c.send(true, 1, PING_MESSAGE.getBytes(StandardCharsets.UTF_8));
            expectFailed(c, 1002);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 9, 10})
    void fragmentedControlFramesFail(int opcode) throws Exception {
        try (FrameClient c = open()) {
            c.send(false, opcode, new byte[0]);
            expectFailed(c, 1002);
        }
    }

    // --- 6. UTF-8 in text messages

    @Test
    void invalidUtf8TextFails() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 1, new byte[] {'{', (byte) 0xce, (byte) 0xba, (byte) 0xe1, (byte) 0xbd, (byte) 0xb9, (byte) 0xcf,
                (byte) 0x83, (byte) 0xce, (byte) 0xbc, (byte) 0xce, (byte) 0xb5, (byte) 0xed, (byte) 0xa0, (byte) 0x80, '}'});
            expectFailed(c, 1007);
        }
    }

    @Test
    void invalidUtf8InAFragmentedMessageFails() throws Exception {
        try (FrameClient c = open()) {
            c.send(false, 1, "{\"type\":\"ping\",".getBytes(StandardCharsets.UTF_8));
            c.send(false, 0, new byte[] {(byte) 0xf4});
            c.send(true, 0, new byte[] {(byte) 0x90, (byte) 0x80, (byte) 0x80, '}'});    // above U+10FFFF
            expectFailed(c, 1007);
        }
    }

    @Test
    void characterSplitAcrossFragmentsIsValid() throws Exception {
        try (FrameClient c = open()) {
            byte[] text = "{\"type\":\"ping\",\"κόσμε\":1}".getBytes(StandardCharsets.UTF_8);
            int inside = "{\"type\":\"ping\",\"".length() + 1;       // the second byte of κ
            for (int i = 0; i < text.length; i++) {                 // one byte per fragment, then the rest
                boolean last = i == text.length - 1;
                c.send(last, i == 0 ? 1 : 0, new byte[] {text[i]});
                if (i == inside) {
                    c.send(true, 9, new byte[0]);
                }
            }
            expectPongMessage(c);
        }
    }

    // --- 5 and 7. close codes and payloads

    @ParameterizedTest
    @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999})
    void validCloseCodesAreEchoed(int code) throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 8, FrameClient.closePayload(code, "bye"));
            FrameClient.Frame close = c.readUntilClose();
            assertEquals(code, close.closeCode());
            assertTrue(c.awaitEndOfStream(), "the server ends the TCP connection after the handshake");
        }
    }

    @Test
    void emptyCloseIsAnsweredWithNormalClosure() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 8, new byte[0]);
            assertEquals(1000, c.readUntilClose().closeCode());
            assertTrue(c.awaitEndOfStream());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    void invalidCloseCodesFail(int code) throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 8, FrameClient.closePayload(code, ""));
            expectFailed(c, 1002);
        }
    }

    @Test
    void closeWithOneBytePayloadFails() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 8, new byte[] {3});
            expectFailed(c, 1002);
        }
    }

    @Test
    void closeReasonMustBeUtf8() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 8, new byte[] {0x03, (byte) 0xe8, (byte) 0xce, (byte) 0xba, (byte) 0xed, (byte) 0xa0, (byte) 0x80});
            expectFailed(c, 1007);
        }
    }

    @Test
    void closeWithTheLongestReasonIsEchoed() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 8, FrameClient.closePayload(1000, "r".repeat(123)));
            assertEquals(1000, c.readUntilClose().closeCode());
        }
    }

    @Test
    void framesAfterTheClientsCloseAreIgnored() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 8, FrameClient.closePayload(1000, ""));
            c.sendText(PING_MESSAGE);
            FrameClient.Frame f = c.read();
            assertEquals(8, f.opcode(), "nothing but the close answer after a close");
            assertTrue(c.awaitEndOfStream());
        }
    }

    // --- 2 and 7. ping and pong payloads

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 125})
    void pingsAreAnsweredWithTheirPayload(int length) throws Exception {
        try (FrameClient c = open()) {
            byte[] payload = new byte[length];
            Arrays.fill(payload, (byte) 0xfe);
            c.send(true, 9, payload);
            FrameClient.Frame pong = c.read();
            while (pong.opcode() != 10) {
                pong = c.read();
            }
            assertArrayEquals(payload, pong.payload());
        }
    }

    @Test
    void controlFrameOver125BytesFails() throws Exception {
        try (FrameClient c = open()) {
            c.send(true, 9, new byte[126]);
            expectFailed(c, 1002);
        }
    }

    // --- 9. masking and limits

    @Test
    void unmaskedClientFramesFail() throws Exception {
        try (FrameClient c = open()) {
            c.send(FrameClient.frame(true, 0, 1, PING_MESSAGE.getBytes(StandardCharsets.UTF_8), false));
            expectFailed(c, 1002);
        }
    }

    @Test
    void messageOverTheLimitIsRefusedFromItsHeader() throws Exception {
        try (FrameClient c = open()) {
            byte[] header = {(byte) 0x82, (byte) (0x80 | 127), 0, 0, 0, 0, 0x7f, 0, 0, 0, 1, 2, 3, 4};  // 2 GiB declared
            c.send(header);
            expectFailed(c, 1009);
        }
    }

    @Test
    void fragmentedMessageOverTheLimitIsRefused() throws Exception {
        try (FrameClient c = open()) {
            byte[] half = new byte[MAX_MESSAGE / 2 + 1];
            c.send(false, 2, half);
            c.send(true, 0, half);
            expectFailed(c, 1009);
        }
    }

    // --- the server's side of the connection

    @Test
    void aClientThatDropsIsGoneAtOnce() throws Exception {
        int before = server.server().connections().openConnections();
        FrameClient c = open();
        Await.until("the connection is registered", () -> server.server().connections().openConnections() > before);
        c.close();          // no close frame: the TCP connection just ends
        Await.until("the dropped connection is cleaned up", () -> server.server().connections().openConnections() == before);
    }

    @Test
    void serverInitiatedCloseWaitsForTheClientsClose() throws Exception {
        String doc = "frames-replaced-" + DOCS.incrementAndGet();
        try (FrameClient first = FrameClient.connect(server.port(), "/ws/fabric?documentId=" + doc + "&clientID=same")) {
            first.read();
            try (FrameClient second = FrameClient.connect(server.port(), "/ws/fabric?documentId=" + doc + "&clientID=same")) {
                FrameClient.Frame close = first.readUntilClose();
                assertEquals(4001, close.closeCode());
                assertFalse(first.awaitEndOfStream(500), "the server waits for the client's close frame");
                first.send(true, 8, FrameClient.closePayload(4001, ""));
                assertTrue(first.awaitEndOfStream(), "and ends the TCP connection once it has it");
                assertEquals(101, second.handshake.status());
            }
        }
    }
}
