package dev.collab.transport;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.WeakHashMap;

/** Server frames (unmasked, RFC 6455 section 5.2): each a header plus the payload, written as one piece. */
final class WsFrames {
    /** Payloads from this size on are framed once while the frame is queued anywhere (see {@link #frame}). */
    static final int SHARED_FRAME_BYTES = 64 * 1024;
    /**
     * Frames of large payloads by payload identity, both weakly held: a payload queued on many connections (a
     * document's state for every joiner, a large update for every peer) is copied into one frame that all their
     * queues share, instead of one copy per connection; the entry goes once nothing holds the payload or frame.
     */
    private static final Map<byte[], WeakReference<byte[]>> LARGE = new WeakHashMap<>();

    private WsFrames() {
    }

    /**
     * One frame's bytes; {@code fin} always set (the server never fragments). A payload of at least
     * {@link #SHARED_FRAME_BYTES} framed again while its frame is still held gets the same array.
     */
    static byte[] frame(int opcode, byte[] payload) {
        if (payload.length < SHARED_FRAME_BYTES) {
            return build(opcode, payload);
        }
        synchronized (LARGE) {
            WeakReference<byte[]> ref = LARGE.get(payload);
            byte[] f = ref == null ? null : ref.get();
            if (f != null && f[0] == (byte) (0x80 | opcode)) {
                return f;
            }
        }
        byte[] f = build(opcode, payload);     // copied outside the lock; two threads may both copy once
        synchronized (LARGE) {
            LARGE.put(payload, new WeakReference<>(f));
        }
        return f;
    }

    private static byte[] build(int opcode, byte[] payload) {
        int n = payload.length;
        int header = n < 126 ? 2 : n < 65536 ? 4 : 10;
        byte[] out = new byte[header + n];
        out[0] = (byte) (0x80 | opcode);
        if (n < 126) {
            out[1] = (byte) n;
        } else if (n < 65536) {
            out[1] = 126;
            out[2] = (byte) (n >>> 8);
            out[3] = (byte) n;
        } else {
            out[1] = 127;
            for (int i = 0; i < 8; i++) {
                out[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
            }
        }
        System.arraycopy(payload, 0, out, header, n);
        return out;
    }

    /** A close frame; the reason is cut to fit the 125-byte control payload (at a character boundary). */
    static byte[] close(int code, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        int length = r.length;
        if (length > 123) {
            length = 123;
            while (length > 0 && (r[length] & 0xc0) == 0x80) {
                length--;       // do not split a multi-byte character
            }
        }
        byte[] payload = new byte[2 + length];
        payload[0] = (byte) (code >>> 8);
        payload[1] = (byte) code;
        System.arraycopy(r, 0, payload, 2, length);
        return frame(WsFrameReader.OP_CLOSE, payload);
    }
}
