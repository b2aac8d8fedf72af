package dev.collab.cluster;

import dev.collab.room.AwarenessEntry;
import dev.collab.room.Bus;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The bus events on the wire between nodes: a kind byte, then the fields, strings as length-prefixed UTF-8. */
final class BusCodec {
    private static final int UPDATE = 1;
    private static final int STEPS = 2;
    private static final int AWARENESS = 3;
    private static final int MESSAGE = 4;
    private static final int HEARTBEAT = 5;

    private BusCodec() {
    }

    static byte[] encode(Bus.Event event) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            switch (event) {
                case Bus.UpdateCommitted u -> {
                    out.writeByte(UPDATE);
                    writeString(out, u.node());
                    out.writeLong(u.seq());
                    writeBytes(out, u.update());
                }
                case Bus.StepsCommitted s -> {
                    out.writeByte(STEPS);
                    writeString(out, s.node());
                    out.writeInt(s.version());
                    writeStrings(out, s.steps());
                    writeStrings(out, s.clientIds());
                }
                case Bus.AwarenessChanged a -> {
                    out.writeByte(AWARENESS);
                    writeString(out, a.node());
                    out.writeInt(a.entries().size());
                    for (AwarenessEntry e : a.entries()) {
                        out.writeLong(e.awarenessId());
                        out.writeLong(e.clock());
                        writeString(out, e.stateJson());
                        writeString(out, e.ownerClientId());
                    }
                }
                case Bus.MessageSent m -> {
                    out.writeByte(MESSAGE);
                    writeString(out, m.node());
                    writeString(out, m.messageType());
                    writeString(out, m.payloadJson());
                    writeString(out, m.payloadText());
                    writeString(out, m.fromClientId());
                    writeString(out, m.toClientId());
                }
                case Bus.Heartbeat h -> {
                    out.writeByte(HEARTBEAT);
                    writeString(out, h.node());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** @throws IOException for bytes that are not an event (a foreign publisher on our channel) */
    static Bus.Event decode(byte[] message) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(message));
        int kind = in.readUnsignedByte();
        String node = readString(in);
        if (node == null) {
            throw new IOException("event without a node");
        }
        return switch (kind) {
            case UPDATE -> new Bus.UpdateCommitted(node, in.readLong(), readBytes(in));
            case STEPS -> new Bus.StepsCommitted(node, in.readInt(), readStrings(in), readStrings(in));
            case AWARENESS -> {
                int n = in.readInt();
                List<AwarenessEntry> entries = new ArrayList<>(Math.min(n, 1024));
                for (int i = 0; i < n; i++) {
                    entries.add(new AwarenessEntry(in.readLong(), in.readLong(), readString(in), readString(in)));
                }
                yield new Bus.AwarenessChanged(node, entries);
            }
            case MESSAGE -> new Bus.MessageSent(node, readString(in), readString(in), readString(in),
                    readString(in), readString(in));
            case HEARTBEAT -> new Bus.Heartbeat(node);
            default -> throw new IOException("unknown event kind " + kind);
        };
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IOException("bad length " + n);
        }
        return in.readNBytes(n);
    }

    /** null is length -1. */
    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
        } else {
            writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > in.available()) {
            throw new IOException("bad length " + n);
        }
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    private static void writeStrings(DataOutputStream out, List<String> strings) throws IOException {
        out.writeInt(strings.size());
        for (String s : strings) {
            writeString(out, s);
        }
    }

    private static List<String> readStrings(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IOException("bad count " + n);
        }
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(readString(in));
        }
        return out;
    }
}
