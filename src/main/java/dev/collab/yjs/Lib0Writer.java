package dev.collab.yjs;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Growable byte buffer writing lib0's binary encoding (the encoding every Yjs format is built on).
 * Not thread-safe; one writer per message.
 */
public final class Lib0Writer {
    private byte[] buf;
    private int len;

    public Lib0Writer() {
        this(64);
    }

    public Lib0Writer(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    public Lib0Writer writeByte(int b) {
        ensure(1);
        buf[len++] = (byte) b;
        return this;
    }

    public Lib0Writer writeBytes(byte[] bytes) {
        return writeBytes(bytes, 0, bytes.length);
    }

    public Lib0Writer writeBytes(byte[] bytes, int off, int n) {
        ensure(n);
        System.arraycopy(bytes, off, buf, len, n);
        len += n;
        return this;
    }

    /** Unsigned variable-length integer, 7 bits per byte, least significant group first. */
    public Lib0Writer writeVarUint(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("varUint must not be negative: " + value);
        }
        ensure(10);
        while (value > 0x7F) {
            buf[len++] = (byte) (0x80 | (value & 0x7F));
            value >>>= 7;
        }
        buf[len++] = (byte) value;
        return this;
    }

    /** Signed variable-length integer: first byte carries the sign (0x40) and 6 data bits. */
    public Lib0Writer writeVarInt(long value) {
        boolean negative = value < 0;
        long abs = negative ? -value : value;
        ensure(11);
        buf[len++] = (byte) ((abs > 0x3F ? 0x80 : 0) | (negative ? 0x40 : 0) | (abs & 0x3F));
        abs >>>= 6;
        while (abs > 0) {
            buf[len++] = (byte) ((abs > 0x7F ? 0x80 : 0) | (abs & 0x7F));
            abs >>>= 7;
        }
        return this;
    }

    public Lib0Writer writeVarUint8Array(byte[] bytes) {
        writeVarUint(bytes.length);
        return writeBytes(bytes);
    }

    /** varUint(UTF-8 length) + UTF-8 bytes, lone surrogates written as U+FFFD like JavaScript's TextEncoder. */
    public Lib0Writer writeVarString(String s) {
        byte[] utf8 = Utf8.encode(s);
        writeVarUint(utf8.length);
        return writeBytes(utf8);
    }

    public Lib0Writer writeFloat32(float f) {
        int bits = Float.floatToIntBits(f);
        return writeByte(bits >>> 24).writeByte(bits >>> 16).writeByte(bits >>> 8).writeByte(bits);
    }

    public Lib0Writer writeFloat64(double d) {
        return writeInt64(Double.doubleToLongBits(d));
    }

    public Lib0Writer writeInt64(long bits) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            writeByte((int) (bits >>> shift));
        }
        return this;
    }

    /**
     * lib0 {@code writeAny}: the value model decoded by {@link Lib0Reader#readAny()} — null, {@link Lib0Reader#UNDEFINED},
     * Boolean, Integer/Long (written as varInt when it fits 53 bits), Float, Double, BigIntValue, String, byte[], List, Map.
     */
    public Lib0Writer writeAny(Object v) {
        if (v == Lib0Reader.UNDEFINED) {
            return writeByte(127);
        } else if (v == null) {
            return writeByte(126);
        } else if (v instanceof Boolean b) {
            return writeByte(b ? 120 : 121);
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            long l = ((Number) v).longValue();
            if (Math.abs(l) <= Lib0Reader.MAX_SAFE_INTEGER) {
                return writeByte(125).writeVarInt(l);
            }
            return writeByte(123).writeFloat64((double) l);
        } else if (v instanceof Float f) {
            return writeByte(124).writeFloat32(f);
        } else if (v instanceof Double d) {
            return writeByte(123).writeFloat64(d);
        } else if (v instanceof Lib0Reader.BigIntValue big) {
            return writeByte(122).writeInt64(big.value());
        } else if (v instanceof String s) {
            return writeByte(119).writeVarString(s);
        } else if (v instanceof byte[] bytes) {
            return writeByte(116).writeVarUint8Array(bytes);
        } else if (v instanceof List<?> list) {
            writeByte(117).writeVarUint(list.size());
            for (Object item : list) {
                writeAny(item);
            }
            return this;
        } else if (v instanceof Map<?, ?> map) {
            writeByte(118).writeVarUint(map.size());
            for (Map.Entry<?, ?> e : map.entrySet()) {
                writeVarString(String.valueOf(e.getKey()));
                writeAny(e.getValue());
            }
            return this;
        }
        throw new IllegalArgumentException("not encodable as lib0 any: " + v.getClass().getName());
    }

    public int length() {
        return len;
    }

    /**
     * The bytes written. A writer sized exactly ({@link #varUintLength}) hands over its buffer instead of copying it
     * (a large update relayed or sent to a joiner is copied once less); any later write reallocates first, so the
     * returned array never changes.
     */
    public byte[] toByteArray() {
        return len == buf.length ? buf : Arrays.copyOf(buf, len);
    }

    /** Bytes {@link #writeVarUint} takes for {@code value}. */
    public static int varUintLength(long value) {
        int n = 1;
        while ((value >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    /** The internal buffer (valid up to {@link #length()}), for copying out of without an intermediate copy. */
    byte[] array() {
        return buf;
    }
}
