package dev.collab.protocol.json;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Parses and validates JSON-protocol messages (no sockets, no room): every way a message can be wrong ends in
 * a {@link JsonProtocolException} whose code and sentence go back to the client, and nothing of it goes further.
 */
final class JsonMessages {
    private JsonMessages() {
    }

    static JsonCommand parse(String text, String connectionDocumentId) throws JsonProtocolException {
        JsonValue value = StrictJson.parse(text).orElseThrow(
                () -> new JsonProtocolException("invalid-json", "the message is not one valid JSON value"));
        if (!(value instanceof JsonObject msg)) {
            throw new JsonProtocolException("not-an-object", "every message must be a JSON object");
        }
        JsonValue type = msg.get("type");
        if (type == null) {
            throw new JsonProtocolException("missing-type", "the message has no \"type\" field");
        }
        if (!(type instanceof JsonString typeName)) {
            throw new JsonProtocolException("invalid-field", "\"type\" must be a string");
        }
        checkDocument(msg, connectionDocumentId);   // every type: documentId, when present, must match
        return switch (typeName.getString()) {
            case "sync" -> sync(msg, connectionDocumentId);
            case "steps" -> steps(msg, connectionDocumentId);
            case "update" -> update(msg, connectionDocumentId);
            case "snapshot" -> snapshot(msg);
            case "awareness" -> awareness(msg);
            case "message" -> message(msg);
            case "ping" -> new JsonCommand.Ping();
            default -> throw new JsonProtocolException("unknown-type",
                    "unknown message type \"" + truncate(typeName.getString()) + "\"");
        };
    }

    private static JsonCommand.Sync sync(JsonObject msg, String documentId) throws JsonProtocolException {
        checkDocument(msg, documentId);
        Integer version = msg.containsKey("version") && msg.get("version") != JsonValue.NULL
                ? version(msg) : null;
        byte[] sv = null;
        if (msg.containsKey("stateVector") && msg.get("stateVector") != JsonValue.NULL) {
            sv = base64(msg, "stateVector");
            try {
                dev.collab.yjs.YUpdates.decodeStateVector(sv);
            } catch (IllegalArgumentException e) {
                throw new JsonProtocolException("invalid-state-vector",
                        "\"stateVector\" is not a Yjs state vector: " + e.getMessage());
            }
        }
        return new JsonCommand.Sync(version, sv);
    }

    private static JsonCommand.Steps steps(JsonObject msg, String documentId) throws JsonProtocolException {
        checkDocument(msg, documentId);
        int version = version(msg);
        JsonValue steps = required(msg, "steps");
        if (!(steps instanceof JsonArray array)) {
            throw new JsonProtocolException("invalid-steps", "\"steps\" must be an array of step objects");
        }
        if (array.isEmpty()) {
            throw new JsonProtocolException("invalid-steps", "\"steps\" must not be empty");
        }
        List<String> out = new ArrayList<>(array.size());
        for (JsonValue step : array) {
            if (!(step instanceof JsonObject stepObject) || !(stepObject.get("stepType") instanceof JsonString)) {
                throw new JsonProtocolException("invalid-steps",
                        "every step must be a ProseMirror step object with a \"stepType\"");
            }
            out.add(step.toString());
        }
        return new JsonCommand.Steps(version, out);
    }

    private static JsonCommand.Update update(JsonObject msg, String documentId) throws JsonProtocolException {
        checkDocument(msg, documentId);
        byte[] update = base64(msg, "update");
        JsonValue id = msg.get("id");
        return new JsonCommand.Update(update, id == null ? null : id.toString());
    }

    private static JsonCommand.Snapshot snapshot(JsonObject msg) throws JsonProtocolException {
        int version = version(msg);
        JsonValue doc = required(msg, "doc");
        if (!(doc instanceof JsonObject docObject) || !(docObject.get("type") instanceof JsonString)) {
            throw new JsonProtocolException("invalid-field", "\"doc\" must be a ProseMirror document (an object with a \"type\")");
        }
        JsonValue id = msg.get("id");
        return new JsonCommand.Snapshot(version, doc.toString(), id == null ? null : id.toString());
    }

    private static JsonCommand.Awareness awareness(JsonObject msg) throws JsonProtocolException {
        JsonValue state = required(msg, "state");
        if (state != JsonValue.NULL && !(state instanceof JsonObject)) {
            throw new JsonProtocolException("invalid-field", "\"state\" must be an object or null");
        }
        return new JsonCommand.Awareness(state.toString());
    }

    private static JsonCommand.Message message(JsonObject msg) throws JsonProtocolException {
        JsonValue payload = required(msg, "payload");
        String to = null;
        JsonValue toValue = msg.get("to");
        if (toValue != null && toValue != JsonValue.NULL) {
            if (!(toValue instanceof JsonObject toObject) || !(toObject.get("id") instanceof JsonString id)) {
                throw new JsonProtocolException("invalid-field", "\"to\" must be an object with a string \"id\"");
            }
            to = id.getString();
        }
        JsonValue messageType = msg.get("messageType");
        if (messageType != null && messageType != JsonValue.NULL && !(messageType instanceof JsonString)) {
            throw new JsonProtocolException("invalid-field", "\"messageType\" must be a string");
        }
        return new JsonCommand.Message(messageType instanceof JsonString s ? s.getString() : null,
                payload.toString(), to);
    }

    private static void checkDocument(JsonObject msg, String documentId) throws JsonProtocolException {
        JsonValue doc = msg.get("documentId");
        if (doc == null || doc == JsonValue.NULL) {
            return;
        }
        if (!(doc instanceof JsonString s)) {
            throw new JsonProtocolException("invalid-field", "\"documentId\" must be a string");
        }
        if (!s.getString().equals(documentId)) {
            throw new JsonProtocolException("document-mismatch",
                    "this connection belongs to document \"" + truncate(documentId) + "\"");
        }
    }

    private static int version(JsonObject msg) throws JsonProtocolException {
        JsonValue v = required(msg, "version");
        if (!(v instanceof JsonNumber n) || !n.isIntegral()) {
            throw new JsonProtocolException("invalid-version", "\"version\" must be a whole number");
        }
        long l;
        try {
            l = n.longValueExact();
        } catch (ArithmeticException e) {
            throw new JsonProtocolException("invalid-version", "\"version\" is out of range");
        }
        if (l < 0 || l > Integer.MAX_VALUE) {
            throw new JsonProtocolException("invalid-version", "\"version\" must be between 0 and the current version");
        }
        return (int) l;
    }

    private static byte[] base64(JsonObject msg, String field) throws JsonProtocolException {
        JsonValue v = required(msg, field);
        if (!(v instanceof JsonString s)) {
            throw new JsonProtocolException("invalid-field", "\"" + field + "\" must be a base64 string");
        }
        try {
            return Base64.getDecoder().decode(s.getString());
        } catch (IllegalArgumentException e) {
            throw new JsonProtocolException("invalid-field", "\"" + field + "\" is not valid base64");
        }
    }

    private static JsonValue required(JsonObject msg, String field) throws JsonProtocolException {
        JsonValue v = msg.get(field);
        if (v == null) {
            throw new JsonProtocolException("missing-field", "the message needs a \"" + field + "\" field");
        }
        return v;
    }

    private static String truncate(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "…" : s;
    }
}
