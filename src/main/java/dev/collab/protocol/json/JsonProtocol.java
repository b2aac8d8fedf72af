package dev.collab.protocol.json;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.auth.Expiry;
import dev.collab.protocol.MessageKinds;
import dev.collab.room.DocumentIds;
import dev.collab.room.Rooms;
import dev.collab.transport.Outbound;
import dev.collab.transport.ProtocolHandler;
import dev.collab.transport.UpgradeRefused;
import dev.collab.transport.UpgradeRefused;
import dev.collab.transport.UpgradeRequest;
import io.helidon.websocket.WsUpgradeException;

import java.util.UUID;

/**
 * The JSON document protocol at {@code /ws/fabric?documentId=<id>&clientID=<id>&token=<jwt>}: see
 * docs/protocol.md. The token is checked before the upgrade, so a refused client never reaches a room.
 */
public final class JsonProtocol implements ProtocolHandler.Factory {
    /** The protocol's name in metrics, logs and the admin API. */
    public static final String NAME = "json";
    public static final String PATH = "/ws/fabric";
    private static final int MAX_CLIENT_ID = 128;
    private final Rooms rooms;
    private final AccessPolicy access;
    private final Expiry expiry;

    public JsonProtocol(Rooms rooms, AccessPolicy access, Expiry expiry) {
        this.rooms = rooms;
        this.access = access;
        this.expiry = expiry;
    }

    @Override
    public void checkUpgrade(UpgradeRequest request) throws WsUpgradeException {
        String problem = DocumentIds.problem(request.param("documentId").orElse(null));
        if (problem != null) {
            throw new UpgradeRefused(400, "documentId: " + problem);
        }
        String clientId = request.param("clientID").orElse("");
        if (clientId.length() > MAX_CLIENT_ID) {
            throw new UpgradeRefused(400, "clientID is longer than " + MAX_CLIENT_ID + " characters");
        }
        Access granted = access.check(request.param("token").orElse(null), request.param("documentId").get());
        if (!granted.granted()) {
            throw new UpgradeRefused(granted.status(), granted.reason());
        }
    }

    @Override
    public ProtocolHandler create(UpgradeRequest request, Outbound connection) {
        String documentId = request.param("documentId").orElseThrow();
        String clientId = request.param("clientID").filter(s -> !s.isEmpty())
                .orElseGet(() -> "c-" + UUID.randomUUID().toString().substring(0, 18));
        Access granted = access.check(request.param("token").orElse(null), documentId);
        return new JsonSession(connection, rooms, documentId, clientId, granted.canWrite(), granted.userId(),
                expiry, granted.expiresAt());
    }

    @Override
    public String kindOf(String message) {
        return MessageKinds.json(message);
    }
}
