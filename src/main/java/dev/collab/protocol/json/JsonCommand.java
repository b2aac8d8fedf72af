package dev.collab.protocol.json;

import java.util.List;

/** A validated message from a JSON-protocol client. */
sealed interface JsonCommand {

    /** Catch up: steps after {@code version} (null = none), the Yjs state {@code stateVector} lacks (null = all). */
    record Sync(Integer version, byte[] stateVector) implements JsonCommand { }

    /** ProseMirror steps based on {@code version}, each as JSON text. */
    record Steps(int version, List<String> steps) implements JsonCommand { }

    /** The ProseMirror document (JSON text) at step {@code version}; {@code idJson} is echoed in the ack. */
    record Snapshot(int version, String docJson, String idJson) implements JsonCommand { }

    /** A Yjs update; {@code idJson} (JSON text, may be null) is echoed in the ack. */
    record Update(byte[] update, String idJson) implements JsonCommand { }

    /** The sender's awareness state as JSON text ("null" clears it). */
    record Awareness(String stateJson) implements JsonCommand { }

    /** An application message to the room or to one client ({@code toClientId}); never stored. */
    record Message(String messageType, String payloadJson, String toClientId) implements JsonCommand { }

    /** Application-level keepalive for clients that cannot send WebSocket pings (answered with pong). */
    record Ping() implements JsonCommand { }
}
