package dev.collab.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads client frames (RFC 6455 section 5) from a byte source and turns them into complete messages: unmasks each
 * payload in one linear pass, reassembles fragments (control frames may come between them), checks the size limit
 * on the declared lengths before reading a byte of payload, and validates text (whole messages, so fragmented ones
 * too) and close frames. A violation ends reading with {@link WsProtocolException} carrying the close code.
 * No protocol logic: the sink decides what messages mean.
 */
final class WsFrameReader {
    static final int OP_CONTINUATION = 0;
    static final int OP_TEXT = 1;
    static final int OP_BINARY = 2;
    static final int OP_CLOSE = 8;
    static final int OP_PING = 9;
    static final int OP_PONG = 10;

    /** Where the bytes come from: blocks until it has them; throws {@link java.io.EOFException}-like at the end. */
    interface Source {
        int readByte();

        byte[] readBytes(int length);
    }

    /** What complete messages and control frames go to. */
    interface Sink {
        void onText(String text);

        void onBinary(byte[] data);

        void onPing(byte[] payload);

        void onPong(byte[] payload);

        /** A close frame; {@code code} is 1005 when it had no payload. */
        void onClose(int code, String reason);
    }

    /** A refused frame: the connection is closed with {@code code}. */
    static final class WsProtocolException extends RuntimeException {
        final int code;

        WsProtocolException(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private final Source source;
    private final Sink sink;
    private final int maxMessageBytes;
    private int fragmentedOpcode = -1;      // opcode of the message being reassembled, -1 when none
    private byte[][] fragments = new byte[0][];
    private int fragmentCount;
    private long fragmentedBytes;

    WsFrameReader(Source source, Sink sink, int maxMessageBytes) {
        this.source = source;
        this.sink = sink;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Reads one frame and delivers what it completes; returns false after a close frame (stop reading). */
    boolean readFrame() {
        int b0 = source.readByte();
        int b1 = source.readByte();
        boolean fin = (b0 & 0x80) != 0;
        int opcode = b0 & 0x0f;
        if ((b0 & 0x70) != 0) {
            throw new WsProtocolException(1002, "reserved bits set (no extension was negotiated)");
        }
        if ((b1 & 0x80) == 0) {
            throw new WsProtocolException(1002, "client frames must be masked");
        }
        long length = b1 & 0x7f;
        if (length == 126) {
            length = (source.readByte() << 8) | source.readByte();
            if (length < 126) {
                throw new WsProtocolException(1002, "length not in its shortest form");
            }
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; i++) {
                length = (length << 8) | source.readByte();
            }
            if (length < 0) {
                throw new WsProtocolException(1002, "length has its top bit set");
            }
            if (length < 65536) {
                throw new WsProtocolException(1002, "length not in its shortest form");
            }
        }
        boolean control = (opcode & 0x08) != 0;
        if (control) {
            if (opcode > OP_PONG) {
                throw new WsProtocolException(1002, "unknown control opcode " + opcode);
            }
            if (!fin) {
                throw new WsProtocolException(1002, "control frames must not be fragmented");
            }
            if (length > 125) {
                throw new WsProtocolException(1002, "control frame payload over 125 bytes");
            }
        } else if (opcode > OP_BINARY) {
            throw new WsProtocolException(1002, "unknown data opcode " + opcode);
        } else if (opcode == OP_CONTINUATION && fragmentedOpcode < 0) {
            throw new WsProtocolException(1002, "continuation frame without a message to continue");
        } else if (opcode != OP_CONTINUATION && fragmentedOpcode >= 0) {
            throw new WsProtocolException(1002, "new message before the fragmented one ended");
        }
        if (!control && fragmentedBytes + length > maxMessageBytes) {
            throw new WsProtocolException(1009, "message larger than " + maxMessageBytes + " bytes");
        }
        int mask = (source.readByte() << 24) | (source.readByte() << 16) | (source.readByte() << 8) | source.readByte();
        byte[] payload = length == 0 ? EMPTY : source.readBytes((int) length);
        unmask(payload, mask);
        if (control) {
            return control(opcode, payload);
        }
        if (fin && opcode != OP_CONTINUATION) {
            deliver(opcode, payload);
            return true;
        }
        if (opcode != OP_CONTINUATION) {
            fragmentedOpcode = opcode;
        }
        addFragment(payload);
        if (fin) {
            byte[] whole = joinFragments();
            int op = fragmentedOpcode;
            fragmentedOpcode = -1;
            deliver(op, whole);
        }
        return true;
    }

    private static final byte[] EMPTY = new byte[0];

    private boolean control(int opcode, byte[] payload) {
        switch (opcode) {
            case OP_PING -> sink.onPing(payload);
            case OP_PONG -> sink.onPong(payload);
            default -> {
                if (payload.length == 1) {
                    throw new WsProtocolException(1002, "close payload of one byte");
                }
                int code = payload.length == 0 ? 1005 : ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
                if (payload.length > 0 && !validCloseCode(code)) {
                    throw new WsProtocolException(1002, "invalid close code " + code);
                }
                String reason = payload.length > 2 ? strictUtf8(payload, 2) : "";
                sink.onClose(code, reason);
                return false;
            }
        }
        return true;
    }

    /** Codes a peer may send (RFC 6455 7.4.1 and the IANA registry): 1000-1003, 1007-1014, 3000-4999. */
    static boolean validCloseCode(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }

    private void deliver(int opcode, byte[] payload) {
        if (opcode == OP_TEXT) {
            sink.onText(strictUtf8(payload, 0));
        } else {
            sink.onBinary(payload);
        }
    }

    private static String strictUtf8(byte[] bytes, int offset) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, offset, bytes.length - offset))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new WsProtocolException(1007, "text is not valid UTF-8");
        }
    }

    private void addFragment(byte[] payload) {
        if (fragmentCount == fragments.length) {
            fragments = java.util.Arrays.copyOf(fragments, Math.max(4, fragmentCount * 2));
        }
        fragments[fragmentCount++] = payload;
        fragmentedBytes += payload.length;
    }

    private byte[] joinFragments() {
        byte[] whole = new byte[(int) fragmentedBytes];
        int at = 0;
        for (int i = 0; i < fragmentCount; i++) {
            System.arraycopy(fragments[i], 0, whole, at, fragments[i].length);
            at += fragments[i].length;
            fragments[i] = null;
        }
        fragmentCount = 0;
        fragmentedBytes = 0;
        if (fragments.length > 16) {
            fragments = new byte[0][];      // a connection that once sent many fragments does not keep the array
        }
        return whole;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /** XORs the 4-byte mask over the payload, eight bytes at a time. */
    static void unmask(byte[] payload, int mask) {
        long mask8 = ((long) mask << 32) | (mask & 0xffffffffL);
        int i = 0;
        for (int end = payload.length - 7; i < end; i += 8) {
            LONGS.set(payload, i, (long) LONGS.get(payload, i) ^ mask8);
        }
        for (; i < payload.length; i++) {
            payload[i] ^= (byte) (mask >>> (24 - 8 * (i & 3)));
        }
    }
}
