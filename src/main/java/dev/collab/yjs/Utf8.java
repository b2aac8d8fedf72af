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

    /** Decodes like TextDecoder (non-fatal): malformed sequences become U+FFFD. */
    public static String decode(byte[] bytes, int off, int len) {
        return new String(bytes, off, len, StandardCharsets.UTF_8);
    }
}
