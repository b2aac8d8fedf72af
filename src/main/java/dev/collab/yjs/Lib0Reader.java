package dev.collab.yjs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads lib0's binary encoding from a byte array. Every read checks bounds and throws
 * {@link MalformedException} on truncated or out-of-range input, so callers can reject bad frames.
 */
public final class Lib0Reader {
    /** JavaScript's Number.MAX_SAFE_INTEGER: the largest varUint lib0 produces. */
    public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;
    /** lib0's {@code undefined}, distinct from {@code null}. */
    public static final Object UNDEFINED = new Object() {
        @Override
        public String toString() {
            return "undefined";
        }
    };
    private static final int MAX_ANY_DEPTH = 64;

    /** A lib0 bigint (tag 122), kept apart from numbers so it round-trips. */
    public record BigIntValue(long value) {
    }

    private final byte[] buf;
    private final int end;
    private int pos;

    public Lib0Reader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    public Lib0Reader(byte[] buf, int off, int len) {
        this.buf = buf;
        this.pos = off;
        this.end = off + len;
    }

    public boolean hasContent() {
        return pos < end;
    }

    public int position() {
        return pos;
    }

    public int remaining() {
        return end - pos;
    }

    public int readByte() {
        if (pos >= end) {
            throw new MalformedException("unexpected end of data");
        }
        return buf[pos++] & 0xFF;
    }

    /** Advances past n bytes without copying them. */
    public void skip(int n) {
        if (n < 0 || n > end - pos) {
            throw new MalformedException("length " + n + " exceeds the " + (end - pos) + " bytes left");
        }
        pos += n;
    }

    public byte[] readBytes(int n) {
        if (n < 0 || n > end - pos) {
            throw new MalformedException("length " + n + " exceeds the " + (end - pos) + " bytes left");
        }
        byte[] out = new byte[n];
        System.arraycopy(buf, pos, out, 0, n);
        pos += n;
        return out;
    }

    public long readVarUint() {
        long value = 0;
        int shift = 0;
        while (true) {
            int b = readByte();
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > 53) {
                throw new MalformedException("varUint longer than 53 bits");
            }
        }
        if (value > MAX_SAFE_INTEGER || value < 0) {
            throw new MalformedException("varUint larger than 2^53-1");
        }
        return value;
    }

    /** A varUint that must fit a Java int (lengths, counts). */
    public int readLength() {
        long v = readVarUint();
        if (v > Integer.MAX_VALUE) {
            throw new MalformedException("length too large: " + v);
        }
        return (int) v;
    }

    public long readVarInt() {
        int b = readByte();
        long value = b & 0x3F;
        boolean negative = (b & 0x40) != 0;
        int shift = 6;
        while ((b & 0x80) != 0) {
            b = readByte();
            value |= (long) (b & 0x7F) << shift;
            shift += 7;
            if (shift > 60) {
                throw new MalformedException("varInt too long");
            }
        }
        return negative ? -value : value;
    }

    public byte[] readVarUint8Array() {
        return readBytes(readLength());
    }

    /**
     * A lib0 varString, read the way lib0 reads it ({@code new TextDecoder('utf-8', { fatal: true, ignoreBOM: true
     * })}): the bytes must be valid UTF-8 (no overlong forms, encoded surrogates, code points above U+10FFFF or
     * truncated sequences), else {@link MalformedException}; a byte order mark is kept as U+FEFF.
     */
    public String readVarString() {
        int n = readLength();
        if (n > end - pos) {
            throw new MalformedException("string length " + n + " exceeds the " + (end - pos) + " bytes left");
        }
        String s = Utf8.decodeStrict(buf, pos, n);
        pos += n;
        return s;
    }

    public float readFloat32() {
        int bits = (readByte() << 24) | (readByte() << 16) | (readByte() << 8) | readByte();
        return Float.intBitsToFloat(bits);
    }

    public long readInt64() {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | readByte();
        }
        return v;
    }

    public double readFloat64() {
        return Double.longBitsToDouble(readInt64());
    }

    /** lib0 {@code readAny}; see {@link Lib0Writer#writeAny(Object)} for the value model. */
    public Object readAny() {
        return readAny(0);
    }

    private Object readAny(int depth) {
        if (depth > MAX_ANY_DEPTH) {
            throw new MalformedException("value nested deeper than " + MAX_ANY_DEPTH);
        }
        int tag = readByte();
        switch (tag) {
            case 127: return UNDEFINED;
            case 126: return null;
            case 125: return readVarInt();
            case 124: return readFloat32();
            case 123: return readFloat64();
            case 122: return new BigIntValue(readInt64());
            case 121: return Boolean.FALSE;
            case 120: return Boolean.TRUE;
            case 119: return readVarString();
            case 118: {
                int n = readLength();
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) {
                    String key = readVarString();
                    map.put(key, readAny(depth + 1));
                }
                return map;
            }
            case 117: {
                int n = readLength();
                if (n > remaining()) {
                    throw new MalformedException("array length " + n + " exceeds the data left");
                }
                List<Object> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(readAny(depth + 1));
                }
                return list;
            }
            case 116: return readVarUint8Array();
            default: throw new MalformedException("unknown lib0 any tag " + tag);
        }
    }

    /** Thrown for input that is not valid lib0 / Yjs binary data. */
    public static final class MalformedException extends IllegalArgumentException {
        public MalformedException(String message) {
            super(message);
        }
    }
}
