package dev.collab.protocol.yjs;

import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.Lib0Writer;

/**
 * y-protocols' sync messages ({@code sync.js}), which y-websocket and Hocuspocus both carry after their own
 * message type:
 *
 * <pre>
 *   [0 step1]  varUint8Array(state vector)     answer with a step 2 holding what the sender lacks
 *   [1 step2]  varUint8Array(update)
 *   [2 update] varUint8Array(update)
 * </pre>
 *
 * Reading is strict: an unknown sub-type, truncation or a malformed state vector is a {@link MalformedException}.
 * Update payloads are passed through as bytes (the room validates them).
 */
public final class SyncProtocol {
    public static final int STEP1 = 0;
    public static final int STEP2 = 1;
    public static final int UPDATE = 2;

    private SyncProtocol() {
    }

    /** One sync message: its sub-type ({@link #STEP1}, {@link #STEP2}, {@link #UPDATE}) and payload. */
    public record Message(int type, byte[] payload) {
    }

    /** Reads a sync message from the reader's position (its sub-type and payload). */
    public static Message read(Lib0Reader r) {
        int type = readType(r);
        byte[] payload = switch (type) {
            case STEP1 -> {
                byte[] sv = r.readVarUint8Array();
                requireStateVector(sv);
                yield sv;
            }
            case STEP2, UPDATE -> r.readVarUint8Array();
            default -> throw new MalformedException("unknown sync message type " + type);
        };
        return new Message(type, payload);
    }

    /** Writes a sync message (sub-type and payload) after whatever the protocol put before it. */
    public static Lib0Writer write(Lib0Writer w, int type, byte[] payload) {
        return w.writeVarUint(type).writeVarUint8Array(payload);
    }

    /** A message or sub-message type: a varUint, capped to an int (anything that large is unknown anyway). */
    public static int readType(Lib0Reader r) {
        long type = r.readVarUint();
        return type > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) type;
    }

    /** Checks the structure of a Yjs state vector: varUint n, then n × (varUint client, varUint clock), nothing after. */
    public static void requireStateVector(byte[] stateVector) {
        Lib0Reader r = new Lib0Reader(stateVector);
        int n = r.readLength();
        if (n > r.remaining() / 2) {
            throw new MalformedException("state vector announces " + n + " clients in " + r.remaining() + " bytes");
        }
        for (int i = 0; i < n; i++) {
            r.readVarUint();
            r.readVarUint();
        }
        if (r.hasContent()) {
            throw new MalformedException(r.remaining() + " bytes after the state vector");
        }
    }
}
