package dev.collab.transport;

import java.nio.charset.StandardCharsets;

/** Server frames (unmasked, RFC 6455 section 5.2): each a header plus the payload, written as one piece. */
final class WsFrames {
    private WsFrames() {
    }

    /** One frame's bytes; {@code fin} always set (the server never fragments). */
    static byte[] frame(int opcode, byte[] payload) {
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
