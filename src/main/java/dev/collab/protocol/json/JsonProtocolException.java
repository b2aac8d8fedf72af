package dev.collab.protocol.json;

/** A client message the JSON protocol refuses; {@code code} is the kebab-case error code sent back. */
final class JsonProtocolException extends Exception {
    private final String code;

    JsonProtocolException(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    String code() {
        return code;
    }
}
