package dev.collab.protocol.json;

import dev.collab.auth.Expiry;
import dev.collab.protocol.EncodedParts;
import dev.collab.protocol.JsonOut;
import dev.collab.protocol.Membership;
import dev.collab.room.AwarenessEntry;
import dev.collab.room.Peer;
import dev.collab.room.Room;
import dev.collab.room.RoomEvent;
import dev.collab.room.Rooms;
import dev.collab.transport.Outbound;
import dev.collab.transport.ProtocolHandler;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.YUpdates;

import io.helidon.websocket.WsCloseCodes;

import java.time.Instant;
import java.util.Base64;

/** One JSON-protocol connection: a member of one document's room. */
final class JsonSession implements ProtocolHandler, Peer {
    /** This protocol's key for its encodings in shared room events ({@link RoomEvent#encoded}). */
    static final Object ENCODER = new Object();
    /** 4205 "Reset Connection", as the Hocuspocus server's closeConnections: the stock clients reconnect. */
    static final int CLOSE_RESET = 4205;
    /** 4404: the document was deleted; in the 4400-4499 range the stock Yjs providers take as final. */
    static final int CLOSE_DOCUMENT_DELETED = 4404;
    /** 4001: a newer connection with the same clientID took this one's place (docs/protocol.md). */
    static final int CLOSE_REPLACED = 4001;
    private static final System.Logger LOG = System.getLogger(JsonSession.class.getName());

    private final Outbound connection;
    private final Rooms rooms;
    private final String documentId;
    private final String clientId;
    private final boolean canWrite;
    /** The numeric id Yjs clients know this client's awareness by: a client never gets its own state back. */
    private final long ownAwarenessId;
    private final String userId;
    private final long connectedAt = System.currentTimeMillis();
    private final Expiry expiry;
    private final Instant expiresAt;
    private Expiry.Scheduled expiring = () -> { };
    private final Membership membership;

    JsonSession(Outbound connection, Rooms rooms, String documentId, String clientId, boolean canWrite,
                String userId, Expiry expiry, Instant expiresAt) {
        this.expiry = expiry;
        this.expiresAt = expiresAt;
        this.connection = connection;
        this.userId = userId;
        this.rooms = rooms;
        this.documentId = documentId;
        this.clientId = clientId;
        this.canWrite = canWrite;
        this.ownAwarenessId = JsonAwareness.idFor(documentId, clientId);
        this.membership = new Membership(rooms, documentId, this);
    }

    @Override
    public Outbound connection() {
        return connection;
    }

    @Override
    public void onOpen() {
        LOG.log(System.Logger.Level.INFO, "open protocol=json doc={0} client={1} conn={2} addr={3} write={4} user={5}",
                documentId, clientId, connection.id(), connection.remoteAddress(), canWrite, userId);
        // the token's exp holds for the whole connection: an error first, then a close the client may retry
        expiring = expiry.at(expiresAt, () -> {
            sendError("token-expired", "the access token expired; reconnect with a fresh one");
            connection.close(CLOSE_RESET, "access token expired");
        });
        membership.join(joined -> connection.sendText(JsonOut.object()
                .field("type", "connected")
                .field("documentId", documentId)
                .field("clientID", clientId)
                .field("version", joined.version())
                .field("connections", joined.connections())
                .end()))
                .whenComplete((result, error) -> {
                    if (error != null) {
                        connection.close(WsCloseCodes.TRY_AGAIN_LATER, Room.failureOf(error).getMessage());
                    } else if (result instanceof Room.JoinResult.Refused refused) {
                        connection.close(WsCloseCodes.TRY_AGAIN_LATER, refused.message());
                    }
                });
    }

    @Override
    public void onRateLimited() {
        sendError("rate-limited", "too many messages; this one was dropped");
    }

    @Override
    public void onText(String text) {
        JsonCommand command;
        try {
            command = JsonMessages.parse(text, documentId);
        } catch (JsonProtocolException e) {
            connection.reportRefused("invalid-message");
            sendError(e.code(), e.getMessage());
            return;
        }
        Room room = membership.room();
        if (room == null) {
            return;     // refused or left: the connection is closing
        }
        switch (command) {
            case JsonCommand.Sync sync -> room.catchUp(this, sync.version(), sync.stateVector());
            case JsonCommand.Steps steps -> room.submitSteps(this, steps.version(), steps.steps())
                    .whenComplete((outcome, error) -> {
                        if (error != null) {
                            reportFailure(error);
                        } else if (outcome instanceof Room.WriteResult.Conflict conflict) {
                            connection.sendText(JsonOut.object().field("type", "conflict")
                                    .field("version", conflict.currentVersion()).end());
                        } else if (outcome instanceof Room.WriteResult.Refused refused) {
                            connection.reportRefused(switch (refused.refusal()) {
                                case READ_ONLY, DOCUMENT_KIND -> refused.code();
                                default -> "invalid-message";
                            });
                            sendError(refused.code(), refused.message());
                        }
                    });
            case JsonCommand.Update update -> room.submitUpdate(this, update.update())
                    .whenComplete((result, error) -> answerWrite(result, error, update.idJson()));
            case JsonCommand.Snapshot snapshot -> room.saveSnapshot(this, snapshot.version(), snapshot.docJson())
                    .whenComplete((result, error) -> answerWrite(result, error, snapshot.idJson()));
            case JsonCommand.Awareness awareness -> room.setAwareness(this, ownAwarenessId,
                    JsonAwareness::nextClock, awareness.stateJson(), clientId);
            case JsonCommand.Message message -> room.sendMessage(
                    new RoomEvent.Message(message.messageType(), message.payloadJson(), null, clientId, this),
                    message.toClientId());
            case JsonCommand.Ping ping -> connection.sendText("{\"type\":\"pong\"}");
        }
    }

    /** An update's or a snapshot's result: an ack once committed, else the refusal or failure as an error. */
    private void answerWrite(Room.WriteResult result, Throwable error, String idJson) {
        if (error != null) {
            reportFailure(error);
        } else if (result instanceof Room.WriteResult.Refused refused) {
            connection.reportRefused(refused.code());
            sendError(refused.code(), refused.message());
        } else {
            sendAck(idJson);
        }
    }

    private void sendAck(String idJson) {
        JsonOut ack = JsonOut.object().field("type", "ack");
        if (idJson != null) {
            ack.raw("id", idJson);
        }
        connection.sendText(ack.end());
    }

    private void reportFailure(Throwable error) {
        Throwable cause = Room.failureOf(error);
        if (cause instanceof Lib0Reader.MalformedException malformed) {
            connection.reportRefused("invalid-message");
            sendError("invalid-update", "the update is not a valid Yjs update: " + malformed.getMessage());
        } else {
            LOG.log(System.Logger.Level.ERROR, "JSON message failed in room " + documentId, cause);
            sendError("internal-error", "the server could not process the message");
        }
    }

    private void sendError(String code, String message) {
        connection.sendText(JsonOut.object().field("type", "error").field("code", code)
                .field("message", message).end());
    }

    @Override
    public void onClosed() {
        expiring.cancel();
        LOG.log(System.Logger.Level.INFO, "close protocol=json doc={0} client={1} conn={2} code={3} reason=\"{4}\" user={5}",
                documentId, clientId, String.valueOf(connection.id()), connection.closeCode(), connection.closeReason(), userId);
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
        return clientId;
    }

    @Override
    public String protocol() {
        return JsonProtocol.NAME;
    }

    @Override
    public boolean replacedBySameClientId() {
        return true;
    }

    @Override
    public boolean canWrite() {
        return canWrite;
    }

    @Override
    public void replaced() {
        connection.close(CLOSE_REPLACED, "replaced by a newer connection with the same clientID");
    }

    @Override
    public void documentDeleted() {
        connection.close(CLOSE_DOCUMENT_DELETED, "document deleted");
    }

    @Override
    public String userId() {
        return userId;
    }

    @Override
    public void deliver(RoomEvent event) {
        switch (event) {
            case RoomEvent.Steps steps -> connection.sendText(steps.encoded(ENCODER, () -> JsonOut.object()
                    .field("type", "steps").field("version", steps.version())
                    .rawArray("steps", steps.steps()).stringArray("clientIDs", steps.clientIds()).end()));
            case RoomEvent.Update update -> {
                if (update.origin() != this) {
                    connection.sendText(update.encoded(ENCODER, () -> JsonOut.object().field("type", "update")
                            .field("update", Base64.getEncoder().encodeToString(update.update())).end()));
                }
            }
            case RoomEvent.Awareness awareness -> {
                if (awareness.origin() != this) {
                    for (AwarenessEntry e : awareness.entries()) {
                        if (e.awarenessId() == ownAwarenessId) {
                            continue;
                        }
                        JsonOut out = JsonOut.object().field("type", "awareness");
                        if (e.ownerClientId() != null) {
                            out.field("clientID", e.ownerClientId());
                        } else {
                            out.field("clientID", e.awarenessId());
                        }
                        connection.sendText(out.raw("state", e.stateJson()).end());
                    }
                }
            }
            case RoomEvent.Synced synced -> connection.sendText(JsonOut.object().field("type", "synced")
                    .field("documentId", documentId).field("version", synced.version()).end());
            case RoomEvent.Message message -> connection.sendText(message.encoded(ENCODER, () -> JsonOut.message(message)));
            case RoomEvent.SyncStep1 ignored -> { }
            case RoomEvent.SyncStep2 step2 -> connection.sendParts(EncodedParts.of(step2, ENCODER,
                    (part, last) -> YUpdates.isEmpty(part) ? null : JsonOut.object().field("type", "update")
                            .field("update", Base64.getEncoder().encodeToString(part)).end()),
                    step2.snapshot().bytes() * 4 / 3);
        }
    }
}
