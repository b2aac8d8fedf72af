package dev.collab.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Server frames: a large payload queued on many connections is framed into one shared array. */
class WsFramesTest {
    @Test
    void aLargePayloadIsFramedOnceForEveryConnection() {
        byte[] payload = new byte[1 << 20];
        payload[0] = 42;
        payload[payload.length - 1] = 43;
        byte[] first = WsFrames.frame(WsFrameReader.OP_BINARY, payload);
        for (int i = 0; i < 100; i++) {
            assertSame(first, WsFrames.frame(WsFrameReader.OP_BINARY, payload));
        }
        assertEquals(10 + payload.length, first.length);
        assertEquals((byte) 0x82, first[0]);
        assertEquals(127, first[1]);
        assertEquals(42, first[10]);
        assertEquals(43, first[first.length - 1]);
        // the same bytes as text are another frame; an equal but distinct payload is framed on its own
        assertNotSame(first, WsFrames.frame(WsFrameReader.OP_TEXT, payload));
        byte[] copy = payload.clone();
        byte[] other = WsFrames.frame(WsFrameReader.OP_BINARY, copy);
        assertNotSame(first, other);
        assertArrayEquals(first, other);
    }

    @Test
    void smallPayloadsAreFramedEachTime() {
        byte[] payload = new byte[WsFrames.SHARED_FRAME_BYTES - 1];
        byte[] a = WsFrames.frame(WsFrameReader.OP_BINARY, payload);
        byte[] b = WsFrames.frame(WsFrameReader.OP_BINARY, payload);
        assertNotSame(a, b);
        assertArrayEquals(a, b);
        assertEquals(4 + payload.length, a.length);
    }
}
