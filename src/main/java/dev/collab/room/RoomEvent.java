package dev.collab.room;

import java.util.List;
import java.util.function.Supplier;

/**
 * What a room tells its peers. Broadcast events are shared by every peer, so each carries a small memo where a
 * protocol adapter keeps its encoding: a message going to a hundred clients of one protocol is encoded once.
 */
public sealed interface RoomEvent {

    /**
     * Encodings cached by encoder (see {@link #encoded}): the key is whatever object an adapter uses to name its
     * encoding (compared by identity), so the room knows no protocols. Reads take no lock; the first encoding
     * stored for a key wins.
     */
    final class Memo {
        private static final Object[] NONE = {};
        private volatile Object[] pairs = NONE;          // key, value, key, value, ...

        @SuppressWarnings("unchecked")
        public <T> T get(Object encoder, Supplier<T> encode) {
            Object found = find(pairs, encoder);
            if (found != null) {
                return (T) found;
            }
            Object v = encode.get();
            synchronized (this) {
                Object[] current = pairs;
                Object raced = find(current, encoder);
                if (raced != null) {
                    return (T) raced;
                }
                Object[] next = java.util.Arrays.copyOf(current, current.length + 2);
                next[current.length] = encoder;
                next[current.length + 1] = v;
                pairs = next;
            }
            return (T) v;
        }

        private static Object find(Object[] pairs, Object encoder) {
            for (int i = 0; i < pairs.length; i += 2) {
                if (pairs[i] == encoder) {
                    return pairs[i + 1];
                }
            }
            return null;
        }
    }

    Memo memo();

    /** The encoding {@code encoder} made of this event, made once (by the first peer that needs it). */
    default <T> T encoded(Object encoder, Supplier<T> encode) {
        return memo().get(encoder, encode);
    }

    /** Committed ProseMirror steps starting at {@code version}; goes to every peer, the submitter included. */
    record Steps(int version, List<String> steps, List<String> clientIds, Memo memo) implements RoomEvent {
        public Steps(int version, List<String> steps, List<String> clientIds) {
            this(version, steps, clientIds, new Memo());
        }
    }

    /** A committed Yjs update; relayed to every peer except {@code origin} (null = catch-up for one peer). */
    record Update(byte[] update, Peer origin, Memo memo) implements RoomEvent {
        public Update(byte[] update, Peer origin) {
            this(update, origin, new Memo());
        }
    }

    /** Awareness changes from {@code origin} (null when the room itself removes states of a departed peer). */
    record Awareness(List<AwarenessEntry> entries, Peer origin, Memo memo) implements RoomEvent {
        public Awareness(List<AwarenessEntry> entries, Peer origin) {
            this(entries, origin, new Memo());
        }
    }

    /** The room's state vector, sent to one peer so it can answer with what the server lacks (sync step 1). */
    record SyncStep1(byte[] stateVector, Memo memo) implements RoomEvent {
        public SyncStep1(byte[] stateVector) {
            this(stateVector, new Memo());
        }
    }

    /**
     * What one peer's state vector lacks (sync step 2, or the Yjs part of a JSON catch-up), sent to that peer only.
     * The adapter computes it from the snapshot, off the room: {@link #parts} for sending (a large document in
     * several updates), {@link #update} as one.
     */
    record SyncStep2(YjsSnapshot snapshot, byte[] stateVector, Memo memo) implements RoomEvent {
        public SyncStep2(YjsSnapshot snapshot, byte[] stateVector) {
            this(snapshot, stateVector, new Memo());
        }

        /** Everything the state vector lacks as one update. */
        public byte[] update() {
            return snapshot.missing(stateVector);
        }

        /** The same as updates to apply in order, each of about {@link YjsSnapshot#PART_BYTES}; at least one. */
        public java.util.Iterator<byte[]> parts() {
            return snapshot.missingParts(stateVector);
        }

        /**
         * The answer shared by every joiner of this state that has nothing yet (encode it once per protocol and
         * send the same bytes to all of them), or null when this peer's answer is its own.
         */
        public YjsSnapshot.SharedAnswer shared() {
            return snapshot.sharedAnswer(stateVector);
        }
    }

    /** End of a JSON catch-up: the peer now has everything up to step {@code version}. */
    record Synced(int version, Memo memo) implements RoomEvent {
        public Synced(int version) {
            this(version, new Memo());
        }
    }

    /**
     * An application message, never stored: {@code fromClientId} null means the server (internal broadcast API).
     * {@code payloadJson} is the payload as JSON; {@code payloadText} is non-null when the sender sent plain text
     * rather than JSON (then {@code payloadJson} is that text as a JSON string), so an adapter whose clients send
     * and expect text can hand it on exactly as sent; null for JSON payloads.
     */
    record Message(String messageType, String payloadJson, String payloadText, String fromClientId, Peer origin,
                   Memo memo) implements RoomEvent {
        public Message(String messageType, String payloadJson, String payloadText, String fromClientId,
                       Peer origin) {
            this(messageType, payloadJson, payloadText, fromClientId, origin, new Memo());
        }
    }
}
