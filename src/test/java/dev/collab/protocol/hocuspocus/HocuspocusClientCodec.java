package dev.collab.protocol.hocuspocus;

import dev.collab.protocol.hocuspocus.HocuspocusCodec.*;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Writer;
import dev.collab.yjs.Lib0Reader.MalformedException;

import static dev.collab.protocol.hocuspocus.HocuspocusCodec.*;

/**
 * The provider's side of the Hocuspocus wire format, for tests only: decoding what a server sends (accepting only
 * what the 4.x provider understands), the frames the provider sends, and re-encoding any message. The server's
 * side is {@link HocuspocusCodec}.
 */
public final class HocuspocusClientCodec {
    private HocuspocusClientCodec() {
    }

    /** Decodes a frame a server sent, accepting only what the 4.x provider understands. */
    public static Outbound decodeServerFrame(byte[] frame) {
        HocuspocusCodec.requireFrame(frame);
        if (frame.length == 1 && frame[0] == PING) {
            return new Ping();
        }
        Lib0Reader r = new Lib0Reader(frame);
        String doc = r.readVarString();
        int type = HocuspocusCodec.readType(r);
        Outbound message = switch (type) {
            case SYNC -> HocuspocusCodec.readSync(r, doc);
            case AWARENESS -> HocuspocusCodec.readAwareness(r, doc);
            case AUTH -> {
                int authType = HocuspocusCodec.readType(r);
                yield switch (authType) {
                    case AUTH_TOKEN -> new TokenRequest(doc);
                    case AUTH_PERMISSION_DENIED -> new PermissionDenied(doc, r.readVarString());
                    case AUTH_AUTHENTICATED -> new Authenticated(doc, Scope.fromWire(r.readVarString()));
                    default -> throw new MalformedException("unknown auth message type " + authType);
                };
            }
            case QUERY_AWARENESS -> new QueryAwareness(doc);
            case STATELESS -> new Stateless(doc, r.readVarString());
            case CLOSE -> new Close(doc, r.readVarString());
            case SYNC_STATUS -> {
                long flag = r.readVarInt();
                if (flag != 0 && flag != 1) {
                    throw new MalformedException("sync status " + flag + " is neither 0 nor 1");
                }
                yield new SyncStatus(doc, flag == 1);
            }
            default -> throw new MalformedException("message type " + type + " is not understood by the provider");
        };
        HocuspocusCodec.requireEnd(r, type);
        return message;
    }

    /** {@code [doc][2][0] varString(token) varString(version)}, as the provider sends it (version may be null). */
    public static byte[] clientAuth(String documentName, String token, String providerVersion) {
        Lib0Writer w = HocuspocusCodec.header(documentName, AUTH, token.length() * 3 + 16)
                .writeVarUint(AUTH_TOKEN)
                .writeVarString(token);
        if (providerVersion != null) {
            w.writeVarString(providerVersion);
        }
        return w.toByteArray();
    }

    /** {@code [doc][7]}: the provider leaving a document. */
    public static byte[] clientClose(String documentName) {
        return HocuspocusCodec.header(documentName, CLOSE, 0).toByteArray();
    }

    /** {@code [10]}: the provider's answer to a ping. */
    public static byte[] clientPong() {
        return new byte[] {PONG};
    }

    /** Encodes any message back to its frame (a {@link Close} with a null reason as the client form). */
    public static byte[] encode(Message message) {
        return switch (message) {
            case Auth m -> clientAuth(m.documentName(), m.token(), m.providerVersion());
            case SyncStep1 m -> HocuspocusCodec.syncStep1(m.documentName(), m.stateVector());
            case SyncStep2 m -> HocuspocusCodec.syncStep2(m.documentName(), m.update());
            case SyncUpdate m -> HocuspocusCodec.update(m.documentName(), m.update());
            case Awareness m -> HocuspocusCodec.awareness(m.documentName(), m.awarenessUpdate());
            case QueryAwareness m -> HocuspocusCodec.queryAwareness(m.documentName());
            case Stateless m -> HocuspocusCodec.stateless(m.documentName(), m.payload());
            case Close m -> m.reason() == null ? clientClose(m.documentName()) : HocuspocusCodec.close(m.documentName(), m.reason());
            case Ping m -> HocuspocusCodec.ping();
            case Pong m -> clientPong();
            case Authenticated m -> HocuspocusCodec.authenticated(m.documentName(), m.scope());
            case PermissionDenied m -> HocuspocusCodec.permissionDenied(m.documentName(), m.reason());
            case TokenRequest m -> HocuspocusCodec.tokenRequest(m.documentName());
            case SyncStatus m -> HocuspocusCodec.syncStatus(m.documentName(), m.applied());
        };
    }
}
