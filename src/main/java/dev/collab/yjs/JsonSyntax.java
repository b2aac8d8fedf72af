package dev.collab.yjs;

import java.util.Arrays;

/**
 * Checks that UTF-8 bytes are text {@code JSON.parse} accepts, without building values. Yjs parses the JSON, Embed
 * and Format contents of an update with JSON.parse, so text it rejects makes the whole update undecodable.
 * Iterative (explicit container stack) so that deeply nested input cannot overflow the Java stack.
 */
final class JsonSyntax {
    private final byte[] b;
    private final int end;
    private int i;
    private byte[] stack = new byte[8];
    private int depth;

    private JsonSyntax(byte[] b, int off, int len) {
        this.b = b;
        this.i = off;
        this.end = off + len;
    }

    static boolean isValid(byte[] b, int off, int len) {
        return new JsonSyntax(b, off, len).document();
    }

    private boolean document() {
        ws();
        while (true) {
            // at the start of a value
            if (i >= end) {
                return false;
            }
            int c = b[i];
            if (c == '{' || c == '[') {
                i++;
                ws();
                if (i < end && b[i] == (c == '{' ? '}' : ']')) {
                    i++;
                } else {
                    push((byte) c);
                    if (c == '{' && !memberKey()) {
                        return false;
                    }
                    continue;
                }
            } else if (!scalar()) {
                return false;
            }
            // a value is complete: close containers or move to the next element
            while (true) {
                ws();
                if (depth == 0) {
                    return i == end;
                }
                if (i >= end) {
                    return false;
                }
                byte top = stack[depth - 1];
                int c2 = b[i++];
                if (c2 == ',') {
                    ws();
                    if (top == '{' && !memberKey()) {
                        return false;
                    }
                    break;
                }
                if (c2 != (top == '{' ? '}' : ']')) {
                    return false;
                }
                depth--;
            }
        }
    }

    /** "key" ws ':' ws — positioned at the following value on success. */
    private boolean memberKey() {
        if (i >= end || b[i] != '"' || !string()) {
            return false;
        }
        ws();
        if (i >= end || b[i] != ':') {
            return false;
        }
        i++;
        ws();
        return true;
    }

    private void push(byte c) {
        if (depth == stack.length) {
            stack = Arrays.copyOf(stack, depth * 2);
        }
        stack[depth++] = c;
    }

    private boolean scalar() {
        int c = b[i];
        switch (c) {
            case '"':
                return string();
            case 't':
                return literal("true");
            case 'f':
                return literal("false");
            case 'n':
                return literal("null");
            default:
                return number();
        }
    }

    private boolean literal(String word) {
        if (end - i < word.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (b[i + k] != word.charAt(k)) {
                return false;
            }
        }
        i += word.length();
        return true;
    }

    private boolean string() {
        i++; // opening quote
        while (i < end) {
            int c = b[i++] & 0xFF;
            if (c == '"') {
                return true;
            }
            if (c < 0x20) {
                return false;
            }
            if (c == '\\') {
                if (i >= end) {
                    return false;
                }
                int e = b[i++];
                if (e == 'u') {
                    if (end - i < 4) {
                        return false;
                    }
                    for (int k = 0; k < 4; k++) {
                        if (Character.digit(b[i++], 16) < 0) {
                            return false;
                        }
                    }
                } else if ("\"\\/bfnrt".indexOf(e) < 0) {
                    return false;
                }
            }
        }
        return false;
    }

    private boolean number() {
        if (i < end && b[i] == '-') {
            i++;
        }
        if (i >= end) {
            return false;
        }
        if (b[i] == '0') {
            i++;
        } else if (!digits()) {
            return false;
        }
        if (i < end && b[i] == '.') {
            i++;
            if (!digits()) {
                return false;
            }
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            return digits();
        }
        return true;
    }

    private boolean digits() {
        int start = i;
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            i++;
        }
        return i > start;
    }

    private void ws() {
        while (i < end && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
    }
}
