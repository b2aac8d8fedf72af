package dev.collab.protocol.hocuspocus;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.auth.Expiry;
import dev.collab.protocol.EncodedParts;
import dev.collab.protocol.Membership;
import dev.collab.protocol.hocuspocus.HocuspocusCodec.Scope;
import dev.collab.protocol.JsonOut;
import dev.collab.protocol.yjs.YjsPeers;
import dev.collab.room.DocumentIds;
import dev.collab.room.Peer;
import dev.collab.room.Room;
import dev.collab.room.RoomEvent;
import dev.collab.room.Rooms;
import dev.collab.transport.Outbound;
import dev.collab.transport.ProtocolHandler;
import dev.collab.yjs.Lib0Reader;

import io.helidon.websocket.WsCloseCodes;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;

/**
 * One Hocuspocus socket. Each document on it becomes a {@link DocumentPeer} in that document's room once its
 * Auth frame is accepted; frames for a document that arrive before are queued (bounded). Updates are
 * acknowledged with SyncStatus only after they are committed, so the provider's {@code unsyncedChanges} reaches
 * 0 only for durable changes.
 */
final class HocuspocusSession implements ProtocolHandler {
    /** This protocol's key for its encodings in shared room events ({@link RoomEvent#encoded}). */
    static final Object ENCODER = new Object();
    /** 4205 "Reset Connection", as the Hocuspocus server's closeConnections: the stock clients reconnect. */
    static final int CLOSE_RESET = 4205;
    private static final System.Logger LOG = System.getLogger(HocuspocusSession.class.getName());
    private static final int CLOSE_INVALID_PAYLOAD = WsCloseCodes.NOT_CONSISTENT;

    private final Outbound connection;
    private final Rooms rooms;
    private final HocuspocusLimits limits;
    /** Documents by the name field exactly as the client sends it (the routing key). */
    private final Map<String, DocumentPeer> documents = new ConcurrentHashMap<>();
    /** Frames of documents whose Auth has not come yet, by name; only the handler's calls touch it. */
    private final Map<String, Pending> pending = new HashMap<>();
    private final AccessPolicy access;
    private final Expiry expiry;
    /** The frames and bytes held in {@link #pending}, summed over its documents (the pre-auth bound). */
    private int pendingFrames;
    private long pendingBytes;

    /** One document's frames waiting for its Auth, with their bytes (so taking them out keeps the sums true). */
    private static final class Pending {
        final ArrayDeque<HocuspocusCodec.Inbound> frames = new ArrayDeque<>();
        long bytes;
    }
    private volatile boolean authenticatedOnce;

    HocuspocusSession(Outbound connection, Rooms rooms, HocuspocusLimits limits, AccessPolicy access,
                      Expiry expiry) {
        this.expiry = expiry;
        this.connection = connection;
        this.rooms = rooms;
        this.limits = limits;
        this.access = access;
    }

    @Override
    public boolean isAuthenticated() {
        return authenticatedOnce;
    }

    @Override
    public Outbound connection() {
        return connection;
    }

    @Override
    public void onBinary(byte[] data) {
        HocuspocusCodec.Inbound message;
        try {
            message = HocuspocusCodec.decode(data);
        } catch (Lib0Reader.MalformedException e) {
            refuse("malformed message: " + e.getMessage());
            return;
        }
        if (message instanceof HocuspocusCodec.Pong) {
            return;
        }
        String name = ((HocuspocusCodec.DocumentMessage) message).documentName();
        if (message instanceof HocuspocusCodec.Auth auth) {
            authenticate(auth, data.length);
            return;
        }
        DocumentPeer doc = documents.get(name);
        if (doc != null) {
            doc.handle(message);
        } else if (message instanceof HocuspocusCodec.Close) {
            takePending(name);      // the provider gave up on it before its Auth was decided
        } else {
            queue(name, message, data.length);
        }
    }

    private void queue(String name, HocuspocusCodec.Inbound message, int size) {
        if (pendingFrames + 1 > limits.maxPendingFrames() || pendingBytes + size > limits.maxPendingBytes()) {
            connection.close(HocuspocusCodec.CLOSE_UNAUTHORIZED, "too many frames before authentication");
            return;
        }
        pendingFrames++;
        pendingBytes += size;
        Pending queued = pending.computeIfAbsent(name, n -> new Pending());
        queued.frames.add(message);
        queued.bytes += size;
    }

    /** Takes a document's waiting frames out of {@link #pending} and out of its sums; null when there are none. */
    private ArrayDeque<HocuspocusCodec.Inbound> takePending(String name) {
        Pending queued = pending.remove(name);
        if (queued == null) {
            return null;
        }
        pendingFrames -= queued.frames.size();
        pendingBytes -= queued.bytes;
        return queued.frames;
    }

    /** The pre-auth sums, for tests: frames and bytes waiting for an Auth. */
    int pendingFrames() {
        return pendingFrames;
    }

    long pendingBytes() {
        return pendingBytes;
    }

    private void authenticate(HocuspocusCodec.Auth auth, int size) {
        String name = auth.documentName();
        DocumentPeer open = documents.get(name);
        if (open != null) {
            connection.sendBinary(HocuspocusCodec.authenticated(name, open.scope));
            return;
        }
        String documentId = HocuspocusCodec.documentNameOf(name);
        String problem = DocumentIds.problem(documentId);
        if (problem == null && documents.size() >= limits.maxDocumentsPerSocket()) {
            problem = "this connection already has " + limits.maxDocumentsPerSocket() + " documents open";
        }
        Access granted = problem == null ? access.check(auth.token(), documentId) : Access.forbidden(problem);
        if (!granted.granted()) {
            takePending(name);      // frames of a refused document never reach a room
            LOG.log(System.Logger.Level.INFO, "hocuspocus connection {0}: permission denied for {1}: {2}",
                    connection.id(), documentId, granted.reason());
            connection.reportRefused("auth");
            connection.sendBinary(HocuspocusCodec.permissionDenied(name, granted.reason()));
            return;
        }
        DocumentPeer doc = new DocumentPeer(name, documentId, granted.canWrite() ? Scope.READ_WRITE : Scope.READONLY,
                granted.userId());
        doc.expiresAt = granted.expiresAt();
        documents.put(name, doc);
        authenticatedOnce = true;
        doc.open();
        ArrayDeque<HocuspocusCodec.Inbound> queued = takePending(name);
        if (queued != null) {
            queued.forEach(doc::handle);
        }
    }

    private void refuse(String reason) {
        connection.reportRefused("invalid-message");
        LOG.log(System.Logger.Level.INFO, "closing hocuspocus connection {0}: {1}", connection.id(), reason);
        connection.close(CLOSE_INVALID_PAYLOAD, reason.length() > 120 ? reason.substring(0, 120) : reason);
    }

    @Override
    public void onClosed() {
        for (DocumentPeer doc : documents.values()) {
            doc.leave();
        }
        documents.clear();
        pending.clear();
        pendingFrames = 0;
        pendingBytes = 0;
    }

    /** One document on this socket: the room member. */
    private final class DocumentPeer implements Peer {
        private final String name;
        private final String documentId;
        private final Scope scope;
        private final String userId;
        private final Membership membership;
        private final long connectedAt = System.currentTimeMillis();
        private Instant expiresAt;
        private Expiry.Scheduled expiring = () -> { };

        DocumentPeer(String name, String documentId, Scope scope, String userId) {
            this.name = name;
            this.userId = userId;
            this.documentId = documentId;
            this.scope = scope;
            this.membership = new Membership(rooms, documentId, this);
        }

        /** Joins the room; Authenticated goes out from inside the room, ahead of anything the room sends. */
        void open() {
            LOG.log(System.Logger.Level.INFO, "open protocol=hocuspocus doc={0} client={1} addr={2} scope={3} user={4}",
                    documentId, clientId(), connection.remoteAddress(), scope.wire(), userId);
            // the token's exp holds for the whole connection: the socket is closed with 4205 (the provider
            // reconnects and authenticates every document again, with a fresh token from its token function)
            expiring = expiry.at(expiresAt, () -> connection.close(CLOSE_RESET, "access token expired"));
            membership.join(joined -> connection.sendBinary(HocuspocusCodec.authenticated(name, scope)))
                    .whenComplete((result, error) -> {
                        String denied = null;
                        if (error != null) {
                            denied = "server error";
                        } else if (result instanceof Room.JoinResult.Refused refused) {
                            connection.reportRefused(refused.code());
                            denied = refused.message();
                        }
                        if (denied != null) {
                            connection.sendBinary(HocuspocusCodec.permissionDenied(name, denied));
                            leave();
                            documents.remove(name, this);
                        }
                    });
            // like the reference server: a new connection gets the current awareness states (the provider
            // never asks for them)
            Room r = membership.room();
            if (r != null) {
                r.sendAwareness(this);
            }
        }

        void leave() {
            expiring.cancel();
            if (membership.leave()) {
                LOG.log(System.Logger.Level.INFO, "close protocol=hocuspocus doc={0} client={1} conn={2} code={3}"
                        + " reason=\"{4}\" user={5}", documentId, clientId(), String.valueOf(connection.id()),
                        connection.isOpen() ? WsCloseCodes.NORMAL_CLOSE : connection.closeCode(),
                        connection.isOpen() ? "document closed" : connection.closeReason(), userId);
            }
        }

        void handle(HocuspocusCodec.Inbound message) {
            Room room = membership.room();
            if (room == null) {
                return;
            }
            switch (message) {
                case HocuspocusCodec.SyncStep1 step1 -> {
                    room.answerSyncStep1(this, step1.stateVector());
                    room.sendStateVector(this);
                }
                case HocuspocusCodec.SyncStep2 step2 -> submit(room, step2.update());
                case HocuspocusCodec.SyncUpdate update -> submit(room, update.update());
                case HocuspocusCodec.Awareness awareness ->
                        room.updateAwareness(this, YjsPeers.toRoom(awareness.entries()));
                case HocuspocusCodec.QueryAwareness query -> room.sendAwareness(this);
                case HocuspocusCodec.Stateless stateless -> room.sendMessage(new RoomEvent.Message(null,
                        JsonOut.quote(stateless.payload()), stateless.payload(), clientId(), this), null);
                case HocuspocusCodec.Close close -> {
                    leave();
                    documents.remove(name);
                }
                case HocuspocusCodec.Auth auth -> { }
                case HocuspocusCodec.Pong pong -> { }
            }
        }

        private void submit(Room room, byte[] update) {
            room.submitUpdate(this, update).whenComplete((result, error) -> {
                if (error != null) {
                    Throwable cause = Room.failureOf(error);
                    if (YjsPeers.isMalformed(cause)) {
                        refuse("invalid Yjs update for " + documentId + ": " + cause.getMessage());
                    } else {
                        LOG.log(System.Logger.Level.WARNING, "update to " + documentId + " failed", cause);
                        connection.sendBinary(HocuspocusCodec.syncStatus(name, false));
                    }
                } else if (result instanceof Room.WriteResult.Refused refused) {
                    switch (refused.refusal()) {
                        case DOCUMENT_TOO_LARGE -> connection.reportRefused(refused.code(), refused.message());
                        case DOCUMENT_KIND -> connection.reportRefused(refused.code(), refused.message());  // logged once, counted
                        case READ_ONLY -> connection.reportRefused(refused.code());
                        default -> LOG.log(System.Logger.Level.WARNING, "update to " + documentId + " failed");
                    }
                    connection.sendBinary(HocuspocusCodec.syncStatus(name, false));
                } else {
                    connection.sendBinary(HocuspocusCodec.syncStatus(name, true));
                }
            });
        }

        @Override
        public String clientId() {
            return "hocuspocus-" + connection.id();
        }

        @Override
        public String protocol() {
            return HocuspocusProtocol.NAME;
        }

        @Override
        public String address() {
            return connection.remoteAddress();
        }

        @Override
        public long connectedAt() {
            return connectedAt;
        }

        /** The whole socket, as the reference server's closeConnections does: the provider reconnects every document. */
        @Override
        public void disconnect(String reason) {
            connection.close(CLOSE_RESET, reason);
        }

        @Override
        public boolean canWrite() {
            return scope == Scope.READ_WRITE;
        }

        /**
         * Permission denied for this document only (the socket may carry others): the provider emits
         * {@code authenticationFailed} with the reason and, unauthenticated, sends nothing more for it.
         */
        @Override
        public void documentDeleted() {
            connection.sendBinary(HocuspocusCodec.permissionDenied(name, "document deleted"));
            leave();
            documents.remove(name, this);
        }

        @Override
        public String userId() {
            return userId;
        }

        @Override
        public void deliver(RoomEvent event) {
            // routing keys differ per socket only with session awareness; the memo is keyed by the plain name
            boolean plainName = name.equals(documentId);
            switch (event) {
                case RoomEvent.Update update -> {
                    if (update.origin() != this) {
                        connection.sendBinary(plainName
                                ? update.encoded(ENCODER, () -> HocuspocusCodec.update(name, update.update()))
                                : HocuspocusCodec.update(name, update.update()));
                    }
                }
                case RoomEvent.Awareness awareness -> connection.sendBinary(plainName
                        ? awareness.encoded(ENCODER, () -> HocuspocusCodec.awareness(name,
                                YjsPeers.toWire(awareness.entries())))
                        : HocuspocusCodec.awareness(name, YjsPeers.toWire(awareness.entries())));
                case RoomEvent.SyncStep1 step1 ->
                        connection.sendBinary(HocuspocusCodec.syncStep1(name, step1.stateVector()));
                case RoomEvent.SyncStep2 step2 -> connection.sendParts(EncodedParts.of(step2, plainName ? ENCODER : EncodedParts.UNSHARED,
                        (part, last) -> last ? HocuspocusCodec.syncStep2(name, part) : HocuspocusCodec.update(name, part)),
                        step2.snapshot().bytes());
                case RoomEvent.Message message -> connection.sendBinary(HocuspocusCodec.stateless(name,
                        message.payloadText() != null ? message.payloadText()
                                : message.encoded(ENCODER, () -> JsonOut.message(message))));
                case RoomEvent.Steps ignored -> { }
                case RoomEvent.Synced ignored -> { }
            }
        }
    }
}
