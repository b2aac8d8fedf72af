package dev.collab.transport;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A socket for connection tests without a network: it keeps every frame the connection's writer hands it. */
final class FakeSocket implements WsSocket {
    final List<byte[]> written = new CopyOnWriteArrayList<>();

    @Override
    public void write(List<byte[]> frames) {
        written.addAll(frames);
    }

    @Override
    public void closeSent() {
    }

    @Override
    public void abort() {
    }

    /** Frames written with {@code opcode}. */
    long count(int opcode) {
        return written.stream().filter(f -> (f[0] & 0x0f) == opcode).count();
    }
}
