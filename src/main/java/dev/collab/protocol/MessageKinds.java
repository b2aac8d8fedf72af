package dev.collab.protocol;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Cheap message classification for metrics; never throws, never parses whole messages. */
public final class MessageKinds {
    private static final Pattern JSON_TYPE = Pattern.compile("\"type\"\\s*:\\s*\"([a-z-]{1,24})\"");
    private static final String[] SYNC = {"sync-step1", "sync-step2", "sync-update"};

    private MessageKinds() {
    }

    /** Every type the JSON protocol knows, both directions; anything else is "other". */
    private static final Set<String> JSON_TYPES = Set.of("sync", "steps", "update", "snapshot", "awareness", "message", "ping",
            "connected", "synced", "conflict", "ack", "error", "pong");

    /**
     * The {@code type} of a JSON-protocol message, looked for near the start. Only known types become metric
     * labels: a client choosing its own types must not create new time series.
     */
    public static String json(String text) {
        Matcher m = JSON_TYPE.matcher(text.length() > 256 ? text.substring(0, 256) : text);
        return m.find() && JSON_TYPES.contains(m.group(1)) ? m.group(1) : "other";
    }

    /** y-protocols: message type, and the sync sub-type for sync messages. */
    public static String yProtocols(byte[] m, int at) {
        if (m.length <= at) {
            return "other";
        }
        return switch (m[at]) {
            case 0 -> m.length > at + 1 && m[at + 1] >= 0 && m[at + 1] <= 2 ? SYNC[m[at + 1]] : "sync";
            case 1 -> "awareness";
            case 2 -> "auth";
            case 3 -> "query-awareness";
            case 5 -> "stateless";
            case 7 -> "close";
            case 8 -> "sync-status";
            case 9 -> "ping";
            case 10 -> "pong";
            default -> "other";
        };
    }

    /** Hocuspocus: skip the document name (varString), then classify like y-protocols. */
    public static String hocuspocus(byte[] m) {
        if (m.length == 1) {
            return m[0] == 9 ? "ping" : m[0] == 10 ? "pong" : "other";
        }
        int len = 0;
        int shift = 0;
        int i = 0;
        while (i < m.length && i < 5) {
            int b = m[i++] & 0xFF;
            len |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        long at = (long) i + len;
        return at < 0 || at >= m.length ? "other" : yProtocols(m, (int) at);
    }
}
