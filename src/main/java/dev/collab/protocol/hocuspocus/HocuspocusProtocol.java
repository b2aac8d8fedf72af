package dev.collab.protocol.hocuspocus;

import dev.collab.auth.AccessPolicy;
import dev.collab.auth.Expiry;
import dev.collab.protocol.MessageKinds;
import dev.collab.room.Rooms;
import dev.collab.transport.Outbound;
import dev.collab.transport.ProtocolHandler;
import dev.collab.transport.UpgradeRequest;

/**
 * The Hocuspocus protocol at {@code /hocuspocus}: what {@code HocuspocusProvider} speaks. One socket carries any
 * number of documents, each frame prefixed with its document name; see {@link HocuspocusCodec}.
 */
public final class HocuspocusProtocol implements ProtocolHandler.Factory {
    /** The protocol's name in metrics, logs and the admin API. */
    public static final String NAME = "hocuspocus";
    public static final String PATH = "/hocuspocus";
    private final Rooms rooms;
    private final HocuspocusLimits limits;
    private final AccessPolicy access;

    private final Expiry expiry;

    public HocuspocusProtocol(Rooms rooms, HocuspocusLimits limits, AccessPolicy access, Expiry expiry) {
        this.expiry = expiry;
        this.rooms = rooms;
        this.limits = limits;
        this.access = access;
    }

    @Override
    public ProtocolHandler create(UpgradeRequest request, Outbound connection) {
        return new HocuspocusSession(connection, rooms, limits, access, expiry);
    }

    /** {@code @hocuspocus/common}'s Connection Timeout, for a socket that authenticated no document in time. */
    @Override
    public int authTimeoutCloseCode() {
        return HocuspocusCodec.CLOSE_CONNECTION_TIMEOUT;
    }

    /** The provider's watchdog only sees messages, not WebSocket pings: 30 s of silence makes it reconnect. */
    @Override
    public Object keepalive() {
        return KEEPALIVE;
    }

    private static final byte[] KEEPALIVE = HocuspocusCodec.ping();

    @Override
    public String kindOf(byte[] message) {
        return MessageKinds.hocuspocus(message);
    }
}
