package dev.collab.protocol.yjs;

import dev.collab.room.AwarenessEntry;
import dev.collab.room.Room;
import dev.collab.yjs.Lib0Reader;

import java.util.ArrayList;
import java.util.List;

/** What the two Yjs wire protocols (y-websocket, Hocuspocus) share when talking to rooms. */
public final class YjsPeers {
    private YjsPeers() {
    }

    /** Wire awareness entries as room entries (Yjs clients own no JSON client id). */
    public static List<AwarenessEntry> toRoom(List<dev.collab.protocol.yjs.AwarenessEntry> wire) {
        List<AwarenessEntry> out = new ArrayList<>(wire.size());
        for (var e : wire) {
            out.add(new AwarenessEntry(e.clientId(), e.clock(), e.isRemoved() ? "null" : e.state(), null));
        }
        return out;
    }

    /** Room entries as wire entries. */
    public static List<dev.collab.protocol.yjs.AwarenessEntry> toWire(List<AwarenessEntry> entries) {
        List<dev.collab.protocol.yjs.AwarenessEntry> out = new ArrayList<>(entries.size());
        for (AwarenessEntry e : entries) {
            out.add(new dev.collab.protocol.yjs.AwarenessEntry(e.awarenessId(), e.clock(), e.stateJson()));
        }
        return out;
    }


    public static boolean isMalformed(Throwable cause) {
        return cause instanceof Lib0Reader.MalformedException;
    }
}
