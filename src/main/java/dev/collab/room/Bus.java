package dev.collab.room;

import java.util.List;
import java.util.function.Consumer;

/**
 * How rooms on several nodes hear of each other's commits: a hint, never the record. A room publishes what it
 * committed and subscribes to its document while it is loaded; what the bus loses, the room finds by comparing
 * its head with the store's ({@link Rooms} checks every loaded room's head periodically, more often while the bus
 * is down). {@link #NONE} is the single-node bus: nothing to publish to, nobody to hear.
 */
public interface Bus extends AutoCloseable {

    /** What one node tells the others about a document (or, for {@link Heartbeat}, about itself). */
    sealed interface Event {
        String node();
    }

    record UpdateCommitted(String node, long seq, byte[] update) implements Event { }

    record StepsCommitted(String node, int version, List<String> steps, List<String> clientIds) implements Event { }

    record AwarenessChanged(String node, List<AwarenessEntry> entries) implements Event { }

    record MessageSent(String node, String messageType, String payloadJson, String payloadText,
                       String fromClientId, String toClientId) implements Event { }

    record Heartbeat(String node) implements Event { }

    /** A subscription; closing it stops delivery. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    String nodeId();

    /** False for {@link #NONE}: rooms skip publishing and head checks. */
    boolean enabled();

    /** False while events cannot flow (the bus server is down): rooms then poll the store. */
    boolean connected();

    /** Delivers the document's events from other nodes to {@code listener} (on the bus's threads). */
    Subscription subscribe(String documentId, Consumer<Event> listener);

    /** Best effort, never blocks: a lost event is found by the head check. */
    void publish(String documentId, Event event);

    /** Told the id of a node whose heartbeat stopped (its awareness states are gone). */
    void onNodeGone(Consumer<String> listener);

    @Override
    void close();

    Bus NONE = new Bus() {
        @Override
        public String nodeId() {
            return "single";
        }

        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public boolean connected() {
            return true;
        }

        @Override
        public Subscription subscribe(String documentId, Consumer<Event> listener) {
            return () -> { };
        }

        @Override
        public void publish(String documentId, Event event) {
        }

        @Override
        public void onNodeGone(Consumer<String> listener) {
        }

        @Override
        public void close() {
        }
    };
}
