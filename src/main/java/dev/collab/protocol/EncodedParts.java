package dev.collab.protocol;

import dev.collab.room.RoomEvent;
import dev.collab.room.YjsSnapshot;

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

    /** The encoder key of an encoding that is this peer's own (a Hocuspocus routing key differs per socket). */
    public static final Object UNSHARED = null;

    /**
     * A sync step 2 for sending: the encoding shared by every joiner of the room's current state that has nothing
     * yet ({@link RoomEvent.SyncStep2#shared}: encoded once per {@code encoder}, by the first connection to
     * get to it, and the same arrays queued on every connection), or this peer's own answer, encoded as it is sent.
     */
    public static <T> Iterator<T> of(RoomEvent.SyncStep2 step2, Object encoder, BiFunction<byte[], Boolean, T> encode) {
        YjsSnapshot.SharedAnswer shared = encoder == UNSHARED ? null : step2.shared();
        if (shared == null) {
            return new EncodedParts<>(step2.parts(), encode);
        }
        return new Iterator<>() {
            private Iterator<T> encoded;

            private Iterator<T> encoded() {
                if (encoded == null) {
                    encoded = shared.encoded(encoder, encode).iterator();     // on the connection's writer, not the room
                }
                return encoded;
            }

            @Override
            public boolean hasNext() {
                return encoded().hasNext();
            }

            @Override
            public T next() {
                return encoded().next();
            }
        };
    }

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
