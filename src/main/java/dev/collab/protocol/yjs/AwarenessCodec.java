package dev.collab.protocol.yjs;

import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.Lib0Writer;
import jakarta.json.Json;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParserFactory;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The y-protocols awareness update, as {@code encodeAwarenessUpdate} writes it and {@code applyAwarenessUpdate}
 * reads it (y-protocols 1.0.7, {@code awareness.js}):
 *
 * <pre>
 *   varUint n, then n × ( varUint clientID, varUint clock, varString JSON.stringify(state) )
 * </pre>
 *
 * The JSON text {@code null} marks a removed client. Both y-websocket and Hocuspocus carry this update wrapped in a
 * varUint8Array after their awareness message type.
 *
 * <p>Decoding is strict, so a server never relays bytes that would make a stock client throw: every string must be
 * valid UTF-8 (lib0 reads strings with a {@code fatal} TextDecoder, so invalid UTF-8 throws in the browser), every
 * state must be one well-formed JSON value (what {@code JSON.parse} accepts; nesting is capped at Parsson's default
 * depth of 1000), and nothing may follow the last entry. Every failure is a {@link MalformedException}.
 */
public final class AwarenessCodec {
    private static final JsonParserFactory JSON = Json.createParserFactory(Map.of());
    /** Smallest encoded entry: one byte each for client id, clock and the string length (empty string). */
    private static final int MIN_ENTRY_BYTES = 3;

    private AwarenessCodec() {
    }

    /** Decodes a whole awareness update; trailing bytes are malformed. */
    public static List<AwarenessEntry> decode(byte[] update) {
        Lib0Reader r = new Lib0Reader(update);
        List<AwarenessEntry> entries = read(r);
        if (r.hasContent()) {
            throw new MalformedException(r.remaining() + " bytes after the awareness update");
        }
        return entries;
    }

    /** Reads one awareness update from the reader's position (the reader may hold more data after it). */
    public static List<AwarenessEntry> read(Lib0Reader r) {
        int n = r.readLength();
        if (n > r.remaining() / MIN_ENTRY_BYTES) {
            throw new MalformedException("awareness update announces " + n + " entries in " + r.remaining() + " bytes");
        }
        List<AwarenessEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long clientId = r.readVarUint();
            long clock = r.readVarUint();
            String state = r.readVarString();
            entries.add(new AwarenessEntry(clientId, clock, state));
        }
        return Collections.unmodifiableList(entries);
    }

    public static byte[] encode(List<AwarenessEntry> entries) {
        Lib0Writer w = new Lib0Writer(16 + entries.size() * 64);
        write(w, entries);
        return w.toByteArray();
    }

    public static byte[] encode(AwarenessEntry... entries) {
        return encode(List.of(entries));
    }

    public static void write(Lib0Writer w, List<AwarenessEntry> entries) {
        w.writeVarUint(entries.size());
        for (AwarenessEntry e : entries) {
            w.writeVarUint(e.clientId());
            w.writeVarUint(e.clock());
            w.writeVarString(e.state());
        }
    }

    /** Whether the text is exactly one well-formed JSON value (surrounding JSON whitespace allowed). */
    public static boolean isJson(String text) {
        try {
            requireJson(text);
            return true;
        } catch (MalformedException e) {
            return false;
        }
    }

    /** Throws {@link MalformedException} unless the text is exactly one well-formed JSON value. */
    public static void requireJson(String text) {
        if (text == null) {
            throw new MalformedException("awareness state missing");
        }
        try (JsonParser p = JSON.createParser(new StringReader(text))) {
            if (!p.hasNext()) {
                throw new MalformedException("awareness state is empty");
            }
            int depth = 0;
            do {
                switch (p.next()) {
                    case START_OBJECT, START_ARRAY -> depth++;
                    case END_OBJECT, END_ARRAY -> depth--;
                    default -> {
                    }
                }
            } while (depth > 0);
            if (p.hasNext()) {
                throw new MalformedException("awareness state has content after its JSON value");
            }
        } catch (MalformedException e) {
            throw e;
        } catch (RuntimeException e) {
            // JsonParsingException, JsonException, and Parsson's plain RuntimeException for too deep nesting
            throw new MalformedException("awareness state is not valid JSON: " + e.getMessage());
        }
    }
}
