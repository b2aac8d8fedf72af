package dev.collab.protocol.ywebsocket;

import dev.collab.auth.Expiry;
import dev.collab.protocol.EncodedParts;
import dev.collab.protocol.Membership;
import dev.collab.protocol.yjs.YjsPeers;
import dev.collab.room.Peer;
import dev.collab.room.Room;
import dev.collab.room.RoomEvent;
import dev.collab.room.Rooms;
import dev.collab.transport.Outbound;
import dev.collab.transport.ProtocolHandler;
import dev.collab.yjs.Lib0Reader;

import io.helidon.websocket.WsCloseCodes;

import java.time.Instant;

/**
 * One y-websocket connection, behaving as the reference server does: sync step 1 and the awareness states on
 * open, step 2 for the client's step 1, updates committed then relayed to the others, awareness echoed to
 * everyone (the client counts it as traffic), the connection's awareness ids removed when it goes.
 */
final class YWebsocketSession implements ProtocolHandler, Peer {
    /** This protocol's key for its encodings in shared room events ({@link RoomEvent#encoded}). */
    static final Object ENCODER = new Object();
    /** 4205 "Reset Connection", as the Hocuspocus server's closeConnections: the stock clients reconnect. */
    static final int CLOSE_RESET = 4205;
    /** 1007: the payload is not what the protocol allows (undecodable message or update). */
    static final int CLOSE_INVALID_PAYLOAD = WsCloseCodes.NOT_CONSISTENT;
    /** 4404: the document was deleted; y-websocket's provider stops reconnecting on 4400-4499. */
    static final int CLOSE_DOCUMENT_DELETED = 4404;
    private static final System.Logger LOG = System.getLogger(YWebsocketSession.class.getName());

    private final Outbound connection;
    private final Rooms rooms;
    private final String documentId;
    private final boolean canWrite;
    private final String userId;
    private final long connectedAt = System.currentTimeMillis();
    private final Expiry expiry;
    private final Instant expiresAt;
    private Expiry.Scheduled expiring = () -> { };
    private final Membership membership;

    YWebsocketSession(Outbound connection, Rooms rooms, String documentId, boolean canWrite, String userId,
                      Expiry expiry, Instant expiresAt) {
        this.expiry = expiry;
        this.expiresAt = expiresAt;
        this.connection = connection;
        this.userId = userId;
        this.rooms = rooms;
        this.documentId = documentId;
        this.canWrite = canWrite;
        this.membership = new Membership(rooms, documentId, this);
    }

    @Override
    public Outbound connection() {
        return connection;
    }

    @Override
    public void onOpen() {
        LOG.log(System.Logger.Level.INFO, "open protocol=y-websocket doc={0} client={1} addr={2} write={3} user={4}",
                documentId, clientId(), connection.remoteAddress(), canWrite, userId);
        // the token's exp holds for the whole connection; 4205 is outside 4400-4499, so the provider reconnects
        expiring = expiry.at(expiresAt, () -> connection.close(CLOSE_RESET, "access token expired"));
        membership.join(joined -> { }).whenComplete((result, error) -> {
            if (error != null) {
                connection.close(WsCloseCodes.TRY_AGAIN_LATER, Room.failureOf(error).getMessage());
            } else if (result instanceof Room.JoinResult.Refused refused) {
                connection.reportRefused(refused.code());
                connection.close(WsCloseCodes.TRY_AGAIN_LATER, refused.message());
            }
        });
        Room room = membership.room();
        if (room != null) {
            room.sendStateVector(this);
            room.sendAwareness(this);
        }
    }

    @Override
    public void onBinary(byte[] data) {
        YWebsocketCodec.Message message;
        try {
            message = YWebsocketCodec.decode(data);
        } catch (Lib0Reader.MalformedException e) {
            refuse("malformed message: " + e.getMessage());
            return;
        }
        Room room = membership.room();
        if (room == null) {
            return;     // refused or left: the connection is closing
        }
        switch (message) {
            case YWebsocketCodec.SyncStep1 step1 -> room.answerSyncStep1(this, step1.stateVector());
            case YWebsocketCodec.SyncStep2 step2 -> submit(room, step2.update());
            case YWebsocketCodec.SyncUpdate update -> submit(room, update.update());
            case YWebsocketCodec.Awareness awareness -> room.updateAwareness(this, YjsPeers.toRoom(awareness.entries()));
            case YWebsocketCodec.QueryAwareness query -> room.sendAwareness(this);
            case YWebsocketCodec.Auth auth -> { }   // clients never send auth messages that mean anything to us
        }
    }

    private void submit(Room room, byte[] update) {
        room.submitUpdate(this, update).whenComplete((result, error) -> {
            if (error != null) {
                Throwable cause = Room.failureOf(error);
                if (YjsPeers.isMalformed(cause)) {
                    refuse("invalid Yjs update: " + cause.getMessage());
                } else {
                    LOG.log(System.Logger.Level.WARNING, "update from connection " + connection.id() + " failed", cause);
                    connection.close(WsCloseCodes.UNEXPECTED_CONDITION, "the update could not be stored");
                }
            } else if (result instanceof Room.WriteResult.Refused refused) {
                switch (refused.refusal()) {
                    case READ_ONLY -> connection.reportRefused(refused.code());   // dropped; logged once, counted at close
                    case DOCUMENT_KIND -> connection.reportRefused(refused.code(), refused.message());
                    case DOCUMENT_TOO_LARGE -> {
                        // the protocol has no error message: the close tells the client its change was not stored
                        connection.reportRefused(refused.code(), refused.message());
                        connection.close(WsCloseCodes.TOO_BIG, "document-too-large");
                    }
                    default -> {
                        LOG.log(System.Logger.Level.WARNING, "update from connection " + connection.id() + " failed");
                        connection.close(WsCloseCodes.UNEXPECTED_CONDITION, "the update could not be stored");
                    }
                }
            }
        });
    }

    private void refuse(String reason) {
        connection.reportRefused("invalid-message");
        LOG.log(System.Logger.Level.INFO, "closing y-websocket connection {0}: {1}", connection.id(), reason);
        connection.close(CLOSE_INVALID_PAYLOAD, reason.length() > 120 ? reason.substring(0, 120) : reason);
    }

    @Override
    public void onClosed() {
        expiring.cancel();
        LOG.log(System.Logger.Level.INFO, "close protocol=y-websocket doc={0} client={1} conn={2} code={3} reason=\"{4}\" user={5}",
                documentId, clientId(), String.valueOf(connection.id()), connection.closeCode(), connection.closeReason(), userId);
        membership.leave();
    }

    // ---- Peer ----

    @Override
    public String address() {
        return connection.remoteAddress();
    }

    @Override
    public long connectedAt() {
        return connectedAt;
    }

    @Override
    public void disconnect(String reason) {
        connection.close(CLOSE_RESET, reason);
    }

    @Override
    public String clientId() {
        return "y-websocket-" + connection.id();
    }

    @Override
    public String protocol() {
        return YWebsocketProtocol.NAME;
    }

    @Override
    public boolean canWrite() {
        return canWrite;
    }

    @Override
    public boolean receivesMessages() {
        return false;
    }

    @Override
    public void documentDeleted() {
        // y-websocket's provider stops reconnecting on 4400-4499 and emits 'closed' with the code and reason
        connection.close(CLOSE_DOCUMENT_DELETED, "document deleted");
    }

    @Override
    public String userId() {
        return userId;
    }

    @Override
    public void deliver(RoomEvent event) {
        switch (event) {
            case RoomEvent.Update update -> {
                if (update.origin() != this) {
                    connection.sendBinary(update.encoded(ENCODER, () -> YWebsocketCodec.update(update.update())));
                }
            }
            case RoomEvent.Awareness awareness -> connection.sendBinary(awareness.encoded(ENCODER,
                    () -> YWebsocketCodec.awareness(YjsPeers.toWire(awareness.entries()))));
            case RoomEvent.SyncStep1 step1 -> connection.sendBinary(YWebsocketCodec.syncStep1(step1.stateVector()));
            case RoomEvent.SyncStep2 step2 -> connection.sendParts(EncodedParts.of(step2, ENCODER,
                    (part, last) -> last ? YWebsocketCodec.syncStep2(part) : YWebsocketCodec.update(part)),
                    step2.snapshot().bytes());
            case RoomEvent.Steps ignored -> { }
            case RoomEvent.Synced ignored -> { }
            case RoomEvent.Message ignored -> { }
        }
    }
}
