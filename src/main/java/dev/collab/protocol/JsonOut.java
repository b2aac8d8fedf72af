package dev.collab.protocol;

import java.util.List;

/** Builds compact JSON text by hand: outbound messages embed stored step JSON verbatim, without re-parsing. */
public final class JsonOut {
    private final StringBuilder sb = new StringBuilder(128);
    private boolean needsComma;

    public static JsonOut object() {
        JsonOut out = new JsonOut();
        out.sb.append('{');
        return out;
    }

    public JsonOut field(String name, String value) {
        key(name);
        if (value == null) {
            sb.append("null");
        } else {
            quote(sb, value);
        }
        return this;
    }

    public JsonOut field(String name, long value) {
        key(name);
        sb.append(value);
        return this;
    }

    /** Embeds already valid JSON text. */
    public JsonOut raw(String name, String json) {
        key(name);
        sb.append(json == null ? "null" : json);
        return this;
    }

    public JsonOut rawArray(String name, List<String> jsonItems) {
        key(name);
        sb.append('[');
        for (int i = 0; i < jsonItems.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(jsonItems.get(i));
        }
        sb.append(']');
        return this;
    }

    public JsonOut stringArray(String name, List<String> items) {
        key(name);
        sb.append('[');
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            quote(sb, items.get(i));
        }
        sb.append(']');
        return this;
    }

    /**
     * An application message as JSON clients get it, {@code {"type":"message","from":...,"messageType"?,
     * "payload"}}; Hocuspocus clients get the same text as their stateless payload.
     */
    public static String message(dev.collab.room.RoomEvent.Message message) {
        JsonOut out = object().field("type", "message");
        out.raw("from", message.fromClientId() == null ? "{\"type\":\"system\"}"
                : object().field("type", "client").field("id", message.fromClientId()).end());
        if (message.messageType() != null) {
            out.field("messageType", message.messageType());
        }
        return out.raw("payload", message.payloadJson()).end();
    }

    public String end() {
        return sb.append('}').toString();
    }

    private void key(String name) {
        if (needsComma) {
            sb.append(',');
        }
        needsComma = true;
        quote(sb, name);
        sb.append(':');
    }

    public static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2);
        quote(out, s);
        return out.toString();
    }

    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
