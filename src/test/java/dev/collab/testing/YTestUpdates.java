package dev.collab.testing;

import dev.collab.yjs.Lib0Writer;

/**
 * Tiny, real Yjs v1 updates built with the project's own lib0 writer. The byte layout matches what yjs 13.6
 * produces: {@code insertText(7, "t", "hi")} is exactly {@code 010107000401017402686900}, the bytes of
 * {@code Y.encodeStateAsUpdate} for a doc with clientID 7 after {@code doc.getText("t").insert(0, "hi")}.
 */
public final class YTestUpdates {
    private YTestUpdates() {
    }

    /** Client {@code client} inserts {@code text} at the start of root text {@code root} (clock 0, no origins). */
    public static byte[] insertText(long client, String root, String text) {
        return new Lib0Writer()
                .writeVarUint(1)            // one client
                .writeVarUint(1)            // one struct
                .writeVarUint(client)
                .writeVarUint(0)            // clock
                .writeByte(0x04)            // Item, ContentString, no origins, no parentSub
                .writeVarUint(1)            // parent is a root type named by key
                .writeVarString(root)
                .writeVarString(text)
                .writeVarUint(0)            // empty delete set
                .toByteArray();
    }

    /**
     * Client {@code client} (starting at clock {@code clock}) appends {@code text} right after the character
     * ({@code originClient}, {@code originClock}); the parent is inferred from the origin, as yjs encodes it.
     */
    public static byte[] appendAfter(long client, long clock, long originClient, long originClock, String text) {
        return new Lib0Writer()
                .writeVarUint(1)
                .writeVarUint(1)
                .writeVarUint(client)
                .writeVarUint(clock)
                .writeByte(0x84)            // Item with a left origin, ContentString
                .writeVarUint(originClient)
                .writeVarUint(originClock)
                .writeVarString(text)
                .writeVarUint(0)
                .toByteArray();
    }

    public static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }
}
