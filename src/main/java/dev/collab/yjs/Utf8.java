package dev.collab.yjs;

import java.nio.charset.StandardCharsets;

/** UTF-8 as JavaScript's TextEncoder/TextDecoder do it: lone surrogates become U+FFFD (EF BF BD), not '?'. */
public final class Utf8 {
    private Utf8() {
    }

    public static byte[] encode(String s) {
        boolean lone = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                lone = true;
                break;
            }
        }
        if (!lone) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('\uFFFD');
            } else {
                sb.append(c);
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Decodes like lib0's fatal TextDecoder: anything but valid UTF-8 is a {@link Lib0Reader.MalformedException}. */
    public static String decodeStrict(byte[] bytes, int off, int len) {
        java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        try {
            return decoder.decode(java.nio.ByteBuffer.wrap(bytes, off, len)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new Lib0Reader.MalformedException("string is not valid UTF-8");
        }
    }
    /**
     * Length in UTF-16 code units (JavaScript's {@code string.length}) of strictly valid UTF-8, or -1 when the bytes are
     * not valid UTF-8 (overlong forms, encoded surrogates, truncated sequences, code points above U+10FFFF) — the bytes
     * lib0's fatal TextDecoder refuses.
     */
    public static int utf16Length(byte[] b, int off, int len) {
        int units = 0;
        int i = off;
        int end = off + len;
        while (i < end) {
            int c = b[i];
            if (c >= 0) {
                i++;
                units++;
                continue;
            }
            c &= 0xFF;
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                if (c == 0xE0) {
                    lo = 0xA0;
                } else if (c == 0xED) {
                    hi = 0x9F;
                }
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                if (c == 0xF0) {
                    lo = 0x90;
                } else if (c == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                return -1;
            }
            if (end - i <= need) {
                return -1;
            }
            int second = b[i + 1] & 0xFF;
            if (second < lo || second > hi) {
                return -1;
            }
            for (int k = 2; k <= need; k++) {
                if ((b[i + k] & 0xC0) != 0x80) {
                    return -1;
                }
            }
            i += need + 1;
            units += need == 3 ? 2 : 1;
        }
        return units;
    }

    /**
     * Byte position of UTF-16 unit {@code unit} inside valid UTF-8 {@code b[off, off+len)}. When {@code unit} falls
     * between the two surrogates of a 4-byte sequence the result is {@code -(start of the following character) - 1}:
     * the caller then writes U+FFFD for the orphaned low surrogate, as JavaScript's TextEncoder would.
     */
    public static int byteOffsetOfUnit(byte[] b, int off, int len, long unit) {
        int i = off;
        int end = off + len;
        long units = 0;
        while (i < end && units < unit) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                units++;
            } else if (c < 0xE0) {
                i += 2;
                units++;
            } else if (c < 0xF0) {
                i += 3;
                units++;
            } else {
                i += 4;
                units += 2;
                if (units > unit) {
                    return -i - 1;
                }
            }
        }
        return i;
    }
}
