package dev.collab.transport;

import java.util.List;

/** The socket side of a connection, as {@link Connection}'s writer sees it. */
interface WsSocket {
    /** Writes the frames with as few socket writes as possible; blocks while the client does not read. */
    void write(List<byte[]> frames);

    /** The close frame went out: the TCP connection ends once the client's close arrives (or at once if it has). */
    void closeSent();

    /** Drops the TCP connection now (dead peers, slow consumers that do not read the close). */
    void abort();
}
