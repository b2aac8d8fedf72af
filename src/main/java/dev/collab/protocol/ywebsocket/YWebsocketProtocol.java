package dev.collab.protocol.ywebsocket;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.auth.Expiry;
import dev.collab.protocol.MessageKinds;
import dev.collab.room.DocumentIds;
import dev.collab.room.Rooms;
import dev.collab.transport.Outbound;
import dev.collab.transport.ProtocolHandler;
import dev.collab.transport.UpgradeRefused;
import dev.collab.transport.UpgradeRequest;
import io.helidon.websocket.WsUpgradeException;

/**
 * The y-websocket protocol at {@code /yjs/<documentId>}: what {@code new WebsocketProvider(url + '/yjs', id, doc)}
 * speaks. The document id is the rest of the path (Helidon hands listeners no path parameters).
 */
public final class YWebsocketProtocol implements ProtocolHandler.Factory {
    /** The protocol's name in metrics, logs and the admin API. */
    public static final String NAME = "y-websocket";
    public static final String PREFIX = "/yjs/";
    private final Rooms rooms;
    private final AccessPolicy access;
    private final Expiry expiry;

    public YWebsocketProtocol(Rooms rooms, AccessPolicy access, Expiry expiry) {
        this.rooms = rooms;
        this.access = access;
        this.expiry = expiry;
    }

    static String documentId(UpgradeRequest request) {
        String path = request.path();
        return path.startsWith(PREFIX) ? path.substring(PREFIX.length()) : "";
    }

    @Override
    public void checkUpgrade(UpgradeRequest request) throws WsUpgradeException {
        String problem = DocumentIds.problem(documentId(request));
        if (problem != null) {
            throw new UpgradeRefused(400, "document id: " + problem);
        }
        // the stock client sends its `params` (where apps put the token) as query parameters
        Access granted = access.check(request.param("token").orElse(null), documentId(request));
        if (!granted.granted()) {
            throw new UpgradeRefused(granted.status(), granted.reason());
        }
    }

    @Override
    public ProtocolHandler create(UpgradeRequest request, Outbound connection) {
        String documentId = documentId(request);
        Access granted = access.check(request.param("token").orElse(null), documentId);
        return new YWebsocketSession(connection, rooms, documentId, granted.canWrite(), granted.userId(), expiry,
                granted.expiresAt());
    }

    /** An empty awareness update: a no-op for the client, but traffic its 30 s watchdog counts. */
    @Override
    public Object keepalive() {
        return KEEPALIVE;
    }

    private static final byte[] KEEPALIVE = YWebsocketCodec.keepAlive();

    @Override
    public String kindOf(byte[] message) {
        return MessageKinds.yProtocols(message, 0);
    }
}
