package dev.collab.protocol.hocuspocus;

import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.yjs.SyncProtocol;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.Lib0Writer;
import java.util.List;

/**
 * The Hocuspocus wire format as {@code @hocuspocus/provider} 4.8.0 speaks it (verified in its {@code src/} and
 * {@code dist/}: HocuspocusProvider.ts, HocuspocusProviderWebsocket.ts, MessageReceiver.ts, OutgoingMessages/*,
 * and {@code @hocuspocus/common} auth.ts / CloseEvents.ts).
 *
 * <h2>Frames</h2>
 * Every WebSocket binary message is one frame {@code varString(documentName) varUint(type) payload}, except ping and
 * pong, which are the single byte 9 or 10 with no document name (a one-byte frame can never be a document frame,
 * which needs at least a name length and a type). One socket carries any number of documents.
 * <pre>
 *  type  name             payload                                   direction
 *   0    Sync             varUint 0 step1 + varUint8Array(state vector)      both
 *                         varUint 1 step2 + varUint8Array(update)            both
 *                         varUint 2 update + varUint8Array(update)           both
 *   1    Awareness        varUint8Array(awareness update)                    both
 *   2    Auth             varUint 0 Token + varString token + varString provider version ("4.8.0")  client to server
 *                         varUint 0 (nothing after): "send your token again"                        server to client
 *                         varUint 1 PermissionDenied + varString reason                             server to client
 *                         varUint 2 Authenticated + varString scope ("read-write" | "readonly")     server to client
 *   3    QueryAwareness   (none)                                             both (the provider never sends it)
 *   5    Stateless        varString payload                                  both
 *   7    Close            client: (none); server: varString reason           both
 *   8    SyncStatus       varInt 1 applied / 0 refused (read with readVarInt) server to client
 *   9    Ping             single byte, no document name                      server to client
 *  10    Pong             single byte, no document name                      client to server
 * </pre>
 * Types 4 (SyncReply) and 6 (BroadcastStateless) are Hocuspocus-server internals the provider does not understand
 * (it logs "unknown type"); this codec neither accepts nor produces them.
 *
 * <h2>Provider handshake (what the client does, per socket and per document)</h2>
 * <ol>
 * <li>The socket opens on the configured URL (trailing slashes stripped; the document name is not in the URL).
 *     For each attached document the provider then sends, back to back and without waiting for any answer:
 *     {@code Auth Token} (token, or "" when none, plus the provider version), {@code Sync step1} (its state vector)
 *     — after setting {@code unsyncedChanges = 1} — and, when its local awareness state is not null,
 *     {@code Awareness} for its own client id.</li>
 * <li>The first frame of any kind the server sends (a ping counts) completes the connection: the websocket emits
 *     {@code connect} and flushes frames queued while the socket was not open. Until then the 30 s watchdog is
 *     off.</li>
 * <li>Auth: {@code Authenticated(scope)} sets {@code isAuthenticated}, {@code authorizedScope} and emits
 *     {@code authenticated}; {@code PermissionDenied(reason)} emits {@code authenticationFailed} and nothing else
 *     (no close, no retry); {@code Auth Token} with nothing after makes the provider send its Auth frame again. The
 *     provider neither waits for authentication before syncing nor enforces read-only itself, so the server must
 *     hold back (queue) the frames that follow the token until authentication is decided.</li>
 * <li>Sync: a received {@code step1} is answered at once with {@code step2} (the diff against that state vector);
 *     a received {@code step2} is applied and sets {@code synced = true} (the {@code synced} event fires once per
 *     connection); {@code update} is applied.</li>
 * <li>{@code unsyncedChanges}: set to 1 by the handshake (and by {@code forceSync}), +1 for every local update sent
 *     (+1 per batch with {@code flushDelay}), −1 (floor 0) for every {@code SyncStatus} whose varInt is 1; other
 *     values are ignored. Reaching 0 also sets {@code synced = true}. So for it to reach 0 the server must, after
 *     answering the client's step1 with {@code step2}, send its own {@code step1}; the client answers with a
 *     {@code step2}, and the server acknowledges that step2 with {@code SyncStatus(true)} — and every later client
 *     update with one {@code SyncStatus(true)} each. (A read-only connection gets {@code SyncStatus(false)} for
 *     changes it may not make, which leaves the counter above 0, as the Hocuspocus server does.)</li>
 * <li>{@code QueryAwareness} is answered with {@code Awareness} of every state the provider knows;
 *     {@code Stateless} emits {@code stateless}; a server {@code Close(reason)} makes the provider drop
 *     authentication, {@code synced} and remote awareness and emit {@code close} with code 1000 — the socket stays
 *     open and that document does not resync until the socket reconnects (close the socket to force a resync).</li>
 * <li>Ping/pong: the provider answers the single byte 9 with the single byte 10 and never pings by itself. Its
 *     watchdog (checked every 3 s, armed once the first frame arrived) closes the socket when no frame at all was
 *     received for 30 s (and, should the close never complete, forces its close handling with code 4408 on the
 *     third check), then reconnects. WebSocket-level pings are invisible to it, so the server must send frames,
 *     e.g. this ping, well within 30 s.</li>
 * <li>Leaving a document ({@code detach}/{@code destroy}): {@code Awareness} with its own state {@code null}
 *     (destroy), then {@code Close} with no payload. The socket stays open for the other documents.</li>
 * <li>Close codes: the provider does not inspect them. After any socket close it runs its close handling
 *     ({@code synced = false}, remote awareness removed, {@code disconnect}/{@code close} events with the code) and
 *     reconnects after 1 s (with backoff while a connection never got its first frame) unless {@code disconnect()}
 *     or {@code destroy()} was called. The codes of {@code @hocuspocus/common} are 1009 Message Too Big, 4205 Reset
 *     Connection, 4401 Unauthorized, 4403 Forbidden, 4408 Connection Timeout.</li>
 * <li>With {@code sessionAwareness: true} the name field is {@code documentName + "\0" + sessionId}; the provider
 *     routes incoming frames by exact match of that string, so replies must carry the name exactly as received
 *     ({@link #documentNameOf(String)} gives the document part).</li>
 * </ol>
 *
 * <p>{@link #decode(byte[])} reads what a client sends ({@link Inbound}); the provider's side, reading what a server
 * sends ({@link Outbound}), is {@code HocuspocusClientCodec} in the tests. Both are strict: truncation, unknown or
 * out-of-direction types, invalid UTF-8 (lib0 decodes strings with a fatal TextDecoder), malformed awareness JSON,
 * a malformed state vector and trailing bytes throw {@link MalformedException}, and nothing else is thrown.
 */
public final class HocuspocusCodec {
    public static final int SYNC = 0;
    public static final int AWARENESS = 1;
    public static final int AUTH = 2;
    public static final int QUERY_AWARENESS = 3;
    public static final int STATELESS = 5;
    public static final int CLOSE = 7;
    public static final int SYNC_STATUS = 8;
    public static final int PING = 9;
    public static final int PONG = 10;

    public static final int SYNC_STEP1 = SyncProtocol.STEP1;
    public static final int SYNC_STEP2 = SyncProtocol.STEP2;
    public static final int SYNC_UPDATE = SyncProtocol.UPDATE;

    public static final int AUTH_TOKEN = 0;
    public static final int AUTH_PERMISSION_DENIED = 1;
    public static final int AUTH_AUTHENTICATED = 2;

    /** Close codes of {@code @hocuspocus/common} this server sends (the 4.x provider does not inspect codes). */
    public static final int CLOSE_UNAUTHORIZED = 4401;
    /** {@code @hocuspocus/common}'s Connection Timeout: sent when no document authenticated in time. */
    public static final int CLOSE_CONNECTION_TIMEOUT = 4408;

    /** Separator of a session-aware routing key: {@code documentName + "\0" + sessionId}. */
    public static final char ROUTING_KEY_SEPARATOR = '\0';

    private HocuspocusCodec() {
    }

    /** The access a successful authentication grants; the provider stores the wire string as its scope. */
    public enum Scope {
        READ_WRITE("read-write"),
        READONLY("readonly");

        private final String wire;

        Scope(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        public static Scope fromWire(String wire) {
            for (Scope s : values()) {
                if (s.wire.equals(wire)) {
                    return s;
                }
            }
            throw new MalformedException("unknown scope '" + wire + "'");
        }
    }

    // ---------------------------------------------------------------------------------------------- messages

    /** Any decoded frame. */
    public sealed interface Message permits Inbound, Outbound {
    }

    /** A frame a client sends to the server. */
    public sealed interface Inbound extends Message
            permits Auth, SyncMessage, Awareness, QueryAwareness, Stateless, Close, Pong {
    }

    /** A frame the server sends to a client. */
    public sealed interface Outbound extends Message
            permits SyncMessage, Awareness, QueryAwareness, Stateless, Close, Ping,
            Authenticated, PermissionDenied, TokenRequest, SyncStatus {
    }

    /**
     * A frame addressed to one document. {@link #documentName()} is the name field exactly as sent (with session
     * awareness, the routing key {@code name\0session}); answer with exactly that string.
     */
    public sealed interface DocumentMessage
            permits Auth, SyncMessage, Awareness, QueryAwareness, Stateless, Close,
            Authenticated, PermissionDenied, TokenRequest, SyncStatus {
        String documentName();
    }

    /** Sync step 1, step 2 and update: the same bytes in both directions. */
    public sealed interface SyncMessage extends Inbound, Outbound, DocumentMessage
            permits SyncStep1, SyncStep2, SyncUpdate {
    }

    /** {@code [doc][2][0] token version}: the provider's authentication; version is null when absent. */
    public record Auth(String documentName, String token, String providerVersion) implements Inbound, DocumentMessage {
    }

    /** {@code [doc][0][0] varUint8Array(stateVector)}. */
    public record SyncStep1(String documentName, byte[] stateVector) implements SyncMessage {
    }

    /** {@code [doc][0][1] varUint8Array(update)}. */
    public record SyncStep2(String documentName, byte[] update) implements SyncMessage {
    }

    /** {@code [doc][0][2] varUint8Array(update)}. */
    public record SyncUpdate(String documentName, byte[] update) implements SyncMessage {
    }

    /** {@code [doc][1] varUint8Array(awarenessUpdate)}, with the update's decoded, validated entries. */
    public record Awareness(String documentName, byte[] awarenessUpdate, List<AwarenessEntry> entries)
            implements Inbound, Outbound, DocumentMessage {
    }

    /** {@code [doc][3]}. */
    public record QueryAwareness(String documentName) implements Inbound, Outbound, DocumentMessage {
    }

    /** {@code [doc][5] varString(payload)}. */
    public record Stateless(String documentName, String payload) implements Inbound, Outbound, DocumentMessage {
    }

    /** {@code [doc][7]} from a client (reason null), {@code [doc][7] varString(reason)} from the server. */
    public record Close(String documentName, String reason) implements Inbound, Outbound, DocumentMessage {
    }

    /** {@code [9]}: connection-level ping from the server. */
    public record Ping() implements Outbound {
    }

    /** {@code [10]}: the provider's answer to a ping. */
    public record Pong() implements Inbound {
    }

    /** {@code [doc][2][2] varString(scope)}. */
    public record Authenticated(String documentName, Scope scope) implements Outbound, DocumentMessage {
    }

    /** {@code [doc][2][1] varString(reason)}. */
    public record PermissionDenied(String documentName, String reason) implements Outbound, DocumentMessage {
    }

    /** {@code [doc][2][0]}: asks the provider to send its token again. */
    public record TokenRequest(String documentName) implements Outbound, DocumentMessage {
    }

    /** {@code [doc][8] varInt(applied ? 1 : 0)}: acknowledges one received step 2 or update. */
    public record SyncStatus(String documentName, boolean applied) implements Outbound, DocumentMessage {
    }

    // ---------------------------------------------------------------------------------------------- decoding

    /** Decodes a frame a client sent. Anything else, including server-only types, is a {@link MalformedException}. */
    public static Inbound decode(byte[] frame) {
        requireFrame(frame);
        if (frame.length == 1 && frame[0] == PONG) {
            return new Pong();
        }
        Lib0Reader r = new Lib0Reader(frame);
        String doc = r.readVarString();
        int type = readType(r);
        Inbound message = switch (type) {
            case SYNC -> readSync(r, doc);
            case AWARENESS -> readAwareness(r, doc);
            case AUTH -> {
                int authType = readType(r);
                if (authType != AUTH_TOKEN) {
                    throw new MalformedException("auth message type " + authType + " is not sent by clients");
                }
                String token = r.readVarString();
                String version = r.hasContent() ? r.readVarString() : null;
                yield new Auth(doc, token, version);
            }
            case QUERY_AWARENESS -> new QueryAwareness(doc);
            case STATELESS -> new Stateless(doc, r.readVarString());
            case CLOSE -> new Close(doc, r.hasContent() ? r.readVarString() : null);
            default -> throw new MalformedException("message type " + type + " is not accepted from a client");
        };
        requireEnd(r, type);
        return message;
    }

    /** The document part of a name field: everything before the first {@code \0} (the whole string if none). */
    public static String documentNameOf(String routingKey) {
        int i = routingKey.indexOf(ROUTING_KEY_SEPARATOR);
        return i < 0 ? routingKey : routingKey.substring(0, i);
    }

    static void requireFrame(byte[] frame) {
        if (frame == null || frame.length == 0) {
            throw new MalformedException("empty frame");
        }
    }

    static void requireEnd(Lib0Reader r, int type) {
        if (r.hasContent()) {
            throw new MalformedException(r.remaining() + " trailing bytes after message type " + type);
        }
    }

    static int readType(Lib0Reader r) {
        return SyncProtocol.readType(r);
    }

    static Awareness readAwareness(Lib0Reader r, String doc) {
        byte[] update = r.readVarUint8Array();
        return new Awareness(doc, update, AwarenessCodec.decode(update));
    }

    static SyncMessage readSync(Lib0Reader r, String doc) {
        SyncProtocol.Message sync = SyncProtocol.read(r);
        return switch (sync.type()) {
            case SYNC_STEP1 -> new SyncStep1(doc, sync.payload());
            case SYNC_STEP2 -> new SyncStep2(doc, sync.payload());
            default -> new SyncUpdate(doc, sync.payload());
        };
    }

    // ---------------------------------------------------------------------------------------------- encoders

    /** {@code [doc][0][0] varUint8Array(stateVector)}: send after the step 2 that answers the client's step 1. */
    public static byte[] syncStep1(String documentName, byte[] stateVector) {
        return sync(documentName, SYNC_STEP1, stateVector);
    }

    /** {@code [doc][0][1] varUint8Array(update)}: answers a step 1; the provider becomes {@code synced} on it. */
    public static byte[] syncStep2(String documentName, byte[] update) {
        return sync(documentName, SYNC_STEP2, update);
    }

    /** {@code [doc][0][2] varUint8Array(update)}: a live update. */
    public static byte[] update(String documentName, byte[] update) {
        return sync(documentName, SYNC_UPDATE, update);
    }

    /** {@code [doc][1] varUint8Array(awarenessUpdate)}. */
    public static byte[] awareness(String documentName, byte[] awarenessUpdate) {
        return header(documentName, AWARENESS, awarenessUpdate.length + 8)
                .writeVarUint8Array(awarenessUpdate)
                .toByteArray();
    }

    /** {@code [doc][1] varUint8Array(encoded entries)}. */
    public static byte[] awareness(String documentName, List<AwarenessEntry> entries) {
        return awareness(documentName, AwarenessCodec.encode(entries));
    }

    /** {@code [doc][3]}: the provider answers with the awareness states it knows. */
    public static byte[] queryAwareness(String documentName) {
        return header(documentName, QUERY_AWARENESS, 0).toByteArray();
    }

    /** {@code [doc][2][2] varString(scope)}. */
    public static byte[] authenticated(String documentName, Scope scope) {
        return header(documentName, AUTH, 16)
                .writeVarUint(AUTH_AUTHENTICATED)
                .writeVarString(scope.wire())
                .toByteArray();
    }

    /** {@code [doc][2][1] varString(reason)}: the provider emits {@code authenticationFailed(reason)}. */
    public static byte[] permissionDenied(String documentName, String reason) {
        return header(documentName, AUTH, reason.length() * 3 + 8)
                .writeVarUint(AUTH_PERMISSION_DENIED)
                .writeVarString(reason)
                .toByteArray();
    }

    /** {@code [doc][2][0]}: makes the provider send its Auth frame again (with a fresh token). */
    public static byte[] tokenRequest(String documentName) {
        return header(documentName, AUTH, 1).writeVarUint(AUTH_TOKEN).toByteArray();
    }

    /** {@code [doc][8] varInt(1 | 0)}: one per received step 2 / update; only 1 decrements unsyncedChanges. */
    public static byte[] syncStatus(String documentName, boolean applied) {
        return header(documentName, SYNC_STATUS, 1).writeVarInt(applied ? 1 : 0).toByteArray();
    }

    /** {@code [doc][5] varString(payload)}: the provider emits {@code stateless(payload)}. */
    public static byte[] stateless(String documentName, String payload) {
        return header(documentName, STATELESS, payload.length() * 3 + 8).writeVarString(payload).toByteArray();
    }

    /** {@code [doc][7] varString(reason)}: the provider drops auth/sync for the document; the socket stays open. */
    public static byte[] close(String documentName, String reason) {
        return header(documentName, CLOSE, reason.length() * 3 + 8).writeVarString(reason).toByteArray();
    }

    /** {@code [9]}: connection-level ping; the provider answers {@code [10]}. Any frame resets its watchdog. */
    public static byte[] ping() {
        return new byte[] {PING};
    }

    static Lib0Writer header(String documentName, int type, int payloadHint) {
        return new Lib0Writer(documentName.length() * 3 + 8 + payloadHint)
                .writeVarString(documentName)
                .writeVarUint(type);
    }

    private static byte[] sync(String documentName, int syncType, byte[] payload) {
        return SyncProtocol.write(header(documentName, SYNC, payload.length + 8), syncType, payload).toByteArray();
    }
}
