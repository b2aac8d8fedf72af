package dev.collab.room;

import dev.collab.yjs.YUpdates;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A room's committed Yjs state at one moment, immutable: the merged state and the updates committed after it. A
 * snapshot is taken by the room in O(updates) and read on any thread, so the work of answering a reader (diffing,
 * merging, cutting into parts) happens outside the room.
 */
public final class YjsSnapshot {
    /** Parts of a large state are cut at about this size: several fit in any outbound queue, each is one message. */
    public static final int PART_BYTES = 4 << 20;
    /**
     * States up to this size are answered to joiners that have nothing (an empty state vector: every fresh client)
     * from one encoding per protocol, shared by all of them while the state is current; larger ones are cut and
     * encoded per joiner as its connection drains, so the room never holds a second copy of a large document.
     */
    public static final long SHARED_ANSWER_BYTES = 16L << 20;

    static final YjsSnapshot EMPTY = new YjsSnapshot(YUpdates.EMPTY_UPDATE, List.of());

    private final byte[] merged;
    private final List<byte[]> unmerged;
    private final long bytes;
    private volatile byte[] whole;      // merged and pending together, computed by the first reader that needs it
    private volatile SharedAnswer sharedAnswer;

    YjsSnapshot(byte[] merged, List<byte[]> unmerged) {
        this.merged = merged;
        this.unmerged = List.copyOf(unmerged);
        long total = merged.length;
        for (byte[] u : unmerged) {
            total += u.length;
        }
        this.bytes = total;
    }

    /** Bytes of the stored updates this snapshot holds (the merged state and the updates after it). */
    public long bytes() {
        return bytes;
    }

    /** What {@code stateVector} (null or empty: nothing) lacks, as one update; merges the pending updates. */
    public byte[] missing(byte[] stateVector) {
        byte[] state = whole();
        return isEmpty(stateVector) ? state : YUpdates.diff(state, stateVector);
    }

    /**
     * The answer every joiner with an empty state vector shares (see {@link #SHARED_ANSWER_BYTES}), or null when
     * this one is answered on its own (it has some of the document, or the document is larger).
     */
    SharedAnswer sharedAnswer(byte[] stateVector) {
        if (bytes > SHARED_ANSWER_BYTES || !isEmpty(stateVector)) {
            return null;
        }
        SharedAnswer s = sharedAnswer;
        if (s == null) {
            synchronized (this) {
                s = sharedAnswer;
                if (s == null) {
                    s = new SharedAnswer(this);
                    sharedAnswer = s;
                }
            }
        }
        return s;
    }

    /**
     * One encoding per encoder (an adapter's key) of this snapshot's whole state as parts, computed by the first joiner's
     * connection that needs it (off the room) while the others wait for it, then shared by reference.
     */
    public static final class SharedAnswer {
        private final YjsSnapshot snapshot;
        private final java.util.Map<Object, List<?>> byEncoder = new java.util.IdentityHashMap<>(4);

        private SharedAnswer(YjsSnapshot snapshot) {
            this.snapshot = snapshot;
        }

        /** The parts encoded with {@code encode(part, isLast)} (null results left out), once per encoder. */
        @SuppressWarnings("unchecked")
        public synchronized <T> List<T> encoded(Object encoder, java.util.function.BiFunction<byte[], Boolean, T> encode) {
            List<?> v = byEncoder.get(encoder);
            if (v == null) {
                List<T> out = new ArrayList<>();
                Iterator<byte[]> parts = snapshot.missingParts(null);
                while (parts.hasNext()) {
                    T t = encode.apply(parts.next(), !parts.hasNext());
                    if (t != null) {
                        out.add(t);
                    }
                }
                v = List.copyOf(out);
                byEncoder.put(encoder, v);
            }
            return (List<T>) v;
        }
    }

    /**
     * What {@code stateVector} lacks as a sequence of updates that applied in order give the same document, each of
     * about {@link #PART_BYTES} (at least one, possibly empty). A state of up to that size is one part equal to
     * {@link #missing}; a larger one is the merged state's diff in parts, then the pending updates merged, so
     * answering a late joiner never merges the whole document. Parts are computed as they are taken.
     */
    public Iterator<byte[]> missingParts(byte[] stateVector) {
        if (bytes <= PART_BYTES) {
            return List.of(missing(stateVector)).iterator();
        }
        boolean everything = isEmpty(stateVector);
        return new Iterator<>() {
            private Iterator<byte[]> current;
            private boolean pendingDone = unmerged.isEmpty();

            @Override
            public boolean hasNext() {
                return current == null || current.hasNext() || !pendingDone;
            }

            @Override
            public byte[] next() {
                if (current == null) {
                    current = YUpdates.parts(everything ? merged : YUpdates.diff(merged, stateVector), PART_BYTES);
                }
                if (!current.hasNext()) {
                    if (pendingDone) {
                        throw new NoSuchElementException();
                    }
                    pendingDone = true;
                    byte[] pending = YUpdates.merge(unmerged, true);
                    current = YUpdates.parts(everything ? pending : YUpdates.diff(pending, stateVector), PART_BYTES);
                }
                return current.next();
            }
        };
    }

    /** The whole state as one update (the readers of a snapshot share one merge). */
    private byte[] whole() {
        byte[] w = whole;
        if (w == null) {
            w = unmerged.isEmpty() ? merged : YUpdates.merge(all(), true);
            whole = w;
        }
        return w;
    }

    private List<byte[]> all() {
        List<byte[]> all = new ArrayList<>(unmerged.size() + 1);
        all.add(merged);
        all.addAll(unmerged);
        return all;
    }

    /** No state vector, or one that names no client (a fresh Y.Doc's is the single byte 0). */
    static boolean isEmpty(byte[] stateVector) {
        return stateVector == null || stateVector.length == 0
                || (stateVector.length == 1 && stateVector[0] == 0)
                || (stateVector.length < 16 && YUpdates.decodeStateVector(stateVector).isEmpty());
    }
}
