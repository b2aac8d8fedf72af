package dev.collab.protocol.json;

import jakarta.json.Json;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParserFactory;

import java.io.StringReader;
import java.util.Optional;

/**
 * Parses exactly one JSON value. Parsson's JsonReader ignores anything after the first value, and Parsson lets
 * plain RuntimeExceptions escape for input nested deeper than 1000 levels or numbers like 1e9999999999; here all
 * of that is simply "not JSON".
 */
public final class StrictJson {
    /** Json.createParser looks the provider up on every call (~0.1 ms); a factory made once does not. */
    private static final JsonParserFactory PARSERS = Json.createParserFactory(null);

    private StrictJson() {
    }

    /** The single JSON value {@code text} holds, or empty when it is not exactly one valid JSON value. */
    public static Optional<JsonValue> parse(String text) {
        try (JsonParser parser = PARSERS.createParser(new StringReader(text))) {
            if (!parser.hasNext()) {
                return Optional.empty();
            }
            parser.next();
            JsonValue value = parser.getValue();
            return parser.hasNext() ? Optional.empty() : Optional.of(value);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
