package dev.collab.protocol;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;

/**
 * A document state's parts (RoomEvent.SyncStep2#parts) encoded one at a time as the connection sends them: each
 * protocol says how a part is framed, and whether it is the last one (sync step 2 goes last: the client counts
 * itself synced when it arrives, after the updates before it).
 */
public final class EncodedParts<T> implements Iterator<T> {
    private final Iterator<byte[]> parts;
    private final BiFunction<byte[], Boolean, T> encode;
    private T next;

    /** {@code encode(part, isLast)} frames one part, or returns null to leave it out. */
    public EncodedParts(Iterator<byte[]> parts, BiFunction<byte[], Boolean, T> encode) {
        this.parts = parts;
        this.encode = encode;
    }

    @Override
    public boolean hasNext() {
        while (next == null && parts.hasNext()) {
            byte[] part = parts.next();
            next = encode.apply(part, !parts.hasNext());
        }
        return next != null;
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        T out = next;
        next = null;
        return out;
    }
}
