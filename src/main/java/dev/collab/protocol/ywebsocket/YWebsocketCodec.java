package dev.collab.protocol.ywebsocket;

import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.yjs.SyncProtocol;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.Lib0Writer;
import java.util.List;

/**
 * The y-websocket wire format (y-websocket 3.1.0 client, y-protocols 1.0.7). One WebSocket binary message is one
 * frame; the room is the URL path ({@code serverUrl + '/' + room + '?' + params}), never part of a frame:
 *
 * <pre>
 *   [0 sync]      [0 step1]  varUint8Array(state vector)
 *                 [1 step2]  varUint8Array(update)
 *                 [2 update] varUint8Array(update)
 *   [1 awareness] varUint8Array(awareness update)          see {@link AwarenessCodec}
 *   [2 auth]      [0 permission denied] varString(reason)   (server to client only)
 *   [3 query awareness]                                     (no payload)
 * </pre>
 *
 * The format is the same in both directions, so {@link #decode(byte[])} reads what a client sends as well as what a
 * server sends. Decoding is strict: unknown message or sub-message types, truncation, invalid UTF-8, malformed
 * awareness JSON, a malformed state vector and trailing bytes all throw {@link MalformedException} (and nothing
 * else). Yjs update payloads are passed through as bytes; validating them is the update codec's job.
 *
 * <p>What the stock client does (y-websocket 3.1.0 {@code src/y-websocket.js}), see also {@code docs/wire-notes.md}:
 * on open it sends sync step 1 and, if its local awareness state is not null, an awareness update with its own
 * client id. It answers a received step 1 with a step 2, a query-awareness with an awareness update of every state
 * it knows, applies step 2 / update / awareness silently, and only logs a permission-denied. It becomes
 * {@code synced} on the first step 2 it receives. It reconnects (backoff {@code min(2^n * 100, 2500)} ms) after any
 * close except codes 4400-4499, which stop reconnecting and emit {@code closed}. It closes the socket itself when it
 * has received no message for 30 s, so the server must keep traffic flowing: awareness echoes to the sender (the
 * client renews its state every 15 s) or {@link #keepAlive()}.
 */
public final class YWebsocketCodec {
    public static final int MESSAGE_SYNC = 0;
    public static final int MESSAGE_AWARENESS = 1;
    public static final int MESSAGE_AUTH = 2;
    public static final int MESSAGE_QUERY_AWARENESS = 3;

    public static final int SYNC_STEP1 = SyncProtocol.STEP1;
    public static final int SYNC_STEP2 = SyncProtocol.STEP2;
    public static final int SYNC_UPDATE = SyncProtocol.UPDATE;

    public static final int AUTH_PERMISSION_DENIED = 0;

    private YWebsocketCodec() {
    }

    /** A decoded y-websocket frame. */
    public sealed interface Message permits SyncStep1, SyncStep2, SyncUpdate, Awareness, Auth, QueryAwareness {
    }

    /** Sync step 1: the sender's state vector; answer with a step 2 holding what it lacks. */
    public record SyncStep1(byte[] stateVector) implements Message {
    }

    /** Sync step 2: the update answering a step 1. */
    public record SyncStep2(byte[] update) implements Message {
    }

    /** A live document update. */
    public record SyncUpdate(byte[] update) implements Message {
    }

    /**
     * An awareness update.
     *
     * @param awarenessUpdate the raw update bytes (relay these as they are)
     * @param entries         the decoded, validated entries
     */
    public record Awareness(byte[] awarenessUpdate, List<AwarenessEntry> entries) implements Message {
    }

    /** The only auth message y-protocols defines: permission denied, with a reason. */
    public record Auth(String reason) implements Message {
    }

    /** Asks the receiver to send all awareness states it knows. */
    public record QueryAwareness() implements Message {
    }

    /** Decodes one frame. Throws {@link MalformedException} for anything malformed, unknown or followed by bytes. */
    public static Message decode(byte[] frame) {
        if (frame == null) {
            throw new MalformedException("no frame");
        }
        Lib0Reader r = new Lib0Reader(frame);
        int type = readType(r);
        Message message = switch (type) {
            case MESSAGE_SYNC -> readSync(r);
            case MESSAGE_AWARENESS -> {
                byte[] update = r.readVarUint8Array();
                yield new Awareness(update, AwarenessCodec.decode(update));
            }
            case MESSAGE_AUTH -> {
                int authType = readType(r);
                if (authType != AUTH_PERMISSION_DENIED) {
                    throw new MalformedException("unknown auth message type " + authType);
                }
                yield new Auth(r.readVarString());
            }
            case MESSAGE_QUERY_AWARENESS -> new QueryAwareness();
            default -> throw new MalformedException("unknown message type " + type);
        };
        if (r.hasContent()) {
            throw new MalformedException(r.remaining() + " trailing bytes after message type " + type);
        }
        return message;
    }

    private static Message readSync(Lib0Reader r) {
        SyncProtocol.Message sync = SyncProtocol.read(r);
        return switch (sync.type()) {
            case SYNC_STEP1 -> new SyncStep1(sync.payload());
            case SYNC_STEP2 -> new SyncStep2(sync.payload());
            default -> new SyncUpdate(sync.payload());
        };
    }

    private static int readType(Lib0Reader r) {
        return SyncProtocol.readType(r);
    }

    // ---------------------------------------------------------------------------------------------- encoders

    /** {@code [0][0] varUint8Array(stateVector)}: the server's step 1, sent on open. */
    public static byte[] syncStep1(byte[] stateVector) {
        return sync(SYNC_STEP1, stateVector);
    }

    /** {@code [0][1] varUint8Array(update)}: the answer to a step 1; the client becomes {@code synced} on it. */
    public static byte[] syncStep2(byte[] update) {
        return sync(SYNC_STEP2, update);
    }

    /** {@code [0][2] varUint8Array(update)}: a live update. */
    public static byte[] update(byte[] update) {
        return sync(SYNC_UPDATE, update);
    }

    /** {@code [1] varUint8Array(awarenessUpdate)}. */
    public static byte[] awareness(byte[] awarenessUpdate) {
        return new Lib0Writer(awarenessUpdate.length + 8)
                .writeVarUint(MESSAGE_AWARENESS)
                .writeVarUint8Array(awarenessUpdate)
                .toByteArray();
    }

    /** {@code [1] varUint8Array(encoded entries)}. */
    public static byte[] awareness(List<AwarenessEntry> entries) {
        return awareness(AwarenessCodec.encode(entries));
    }

    /**
     * {@code [1][1][0]}: an awareness update with no entries. The stock client applies it as a no-op, but like any
     * message it resets the client's 30 s "nothing received" watchdog (WebSocket ping frames do not, as the browser
     * answers them without the page seeing them). Use it to keep quiet connections alive.
     */
    public static byte[] keepAlive() {
        return new byte[] {MESSAGE_AWARENESS, 1, 0};
    }

    /** {@code [3]}: asks the client for all awareness states it knows (it answers with one awareness message). */
    public static byte[] queryAwareness() {
        return new byte[] {MESSAGE_QUERY_AWARENESS};
    }

    /** {@code [2][0] varString(reason)}: the stock client only logs it ({@code console.warn}); close the socket too. */
    public static byte[] permissionDenied(String reason) {
        return new Lib0Writer(reason.length() * 3 + 8)
                .writeVarUint(MESSAGE_AUTH)
                .writeVarUint(AUTH_PERMISSION_DENIED)
                .writeVarString(reason)
                .toByteArray();
    }

    /** Encodes any decoded message back to its frame. */
    public static byte[] encode(Message message) {
        return switch (message) {
            case SyncStep1 m -> syncStep1(m.stateVector());
            case SyncStep2 m -> syncStep2(m.update());
            case SyncUpdate m -> update(m.update());
            case Awareness m -> awareness(m.awarenessUpdate());
            case Auth m -> permissionDenied(m.reason());
            case QueryAwareness m -> queryAwareness();
        };
    }

    private static byte[] sync(int syncType, byte[] payload) {
        // sized exactly, so the writer's buffer is the message (no copy of a large update)
        return SyncProtocol.write(new Lib0Writer(2 + Lib0Writer.varUintLength(payload.length) + payload.length)
                .writeVarUint(MESSAGE_SYNC), syncType, payload).toByteArray();
    }
}
