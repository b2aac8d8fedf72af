package dev.collab.yjs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java content conversion against what the real yjs and y-prosemirror print for the same documents
 * (e2e/content-fixtures, written by generate.mjs there and committed, so no Node is needed here).
 */
class YContentTest {
    private static final Path DIR = Path.of("e2e/content-fixtures");

    private static JsonObject read(String name) throws IOException {
        try (Reader r = Files.newBufferedReader(DIR.resolve(name + ".json")); var json = Json.createReader(r)) {
            return json.readObject();
        }
    }

    /** Each fixture with each form of its state a server may hold: yjs's merge, ours, ours coalesced. */
    static Stream<Arguments> states() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (var name : read("index").getJsonArray("fixtures").getValuesAs(JsonString.class)) {
            JsonObject f = read(name.getString());
            List<byte[]> updates = f.getJsonArray("updates").getValuesAs(JsonString.class).stream()
                    .map(s -> Base64.getDecoder().decode(s.getString())).toList();
            out.add(Arguments.of(name.getString() + " yjs-merged", f, Base64.getDecoder().decode(f.getString("merged"))));
            out.add(Arguments.of(name.getString() + " merged", f, YUpdates.merge(updates)));
            out.add(Arguments.of(name.getString() + " compacted", f, YUpdates.merge(updates, true)));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("states")
    void contentMatchesTheJavaScriptLibraries(String label, JsonObject fixture, byte[] state) {
        YDocument doc = YDocument.decode(state);
        assertEquals(fixture.getJsonArray("roots").getValuesAs(JsonString.class).stream().map(JsonString::getString).toList(),
                doc.rootNames());
        assertEquals(fixture.getString("json"), YContent.toJson(doc));
        if (!fixture.isNull("field")) {
            String field = fixture.getString("field");
            assertEquals(fixture.getString("prosemirror"), YContent.prosemirrorJson(doc, field));
            assertEquals(fixture.getString("text"), YContent.plainText(doc, field));
        }
    }

    @Test
    void templateEncodesToWhatYProsemirrorReadsBack() throws IOException {
        JsonObject f = read("template");
        Object template = JsValues.parseJson(f.getString("template"));
        byte[] update = ProseMirrorEncoder.encode(template, "default", 123456789L, 0);
        YUpdates.validate(update);
        YDocument doc = YDocument.decode(update);
        assertEquals(f.getString("normal"), YContent.prosemirrorJson(doc, "default"));
        assertEquals(f.getString("text"), YContent.plainText(doc, "default"));
        // the seed sits beside other fields and behind other clients' history without disturbing them
        JsonObject shared = read("shared-types");
        byte[] existing = Base64.getDecoder().decode(shared.getString("merged"));
        YDocument both = YDocument.decode(YUpdates.merge(List.of(existing, update)));
        assertEquals(f.getString("normal"), YContent.prosemirrorJson(both, "default"));
        assertTrue(both.rootNames().containsAll(List.of("settings", "default")));
    }

    @Test
    void readBackIsAFixedPoint() throws IOException {
        JsonObject f = read("template");
        byte[] update = ProseMirrorEncoder.encode(JsValues.parseJson(f.getString("readBack")), "f", 9, 0);
        assertEquals(f.getString("readBack"), YContent.prosemirrorJson(YDocument.decode(update), "f"));
    }

    @Test
    void missingOrForeignFieldsAreNotConvertible() throws IOException {
        YDocument doc = YDocument.decode(Base64.getDecoder().decode(read("shared-types").getString("merged")));
        var missing = assertThrows(YContent.NotConvertible.class, () -> YContent.prosemirrorJson(doc, "default"));
        assertTrue(missing.getMessage().contains("\"default\""), missing.getMessage());
        var foreign = assertThrows(YContent.NotConvertible.class, () -> YContent.prosemirrorJson(doc, "settings"));
        assertTrue(foreign.getMessage().contains("Y.Map"), foreign.getMessage());
        assertEquals("Hello, dear world \uD83D\uDE00\n", YContent.plainText(doc, "notes"));
        // fully deleted, but the deleted items still show what the root was used as
        assertEquals(YDocument.Kind.TEXT, doc.root("scratch").kind());
    }

    @Test
    void badTemplatesAreRefusedWithTheirPath() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("type", "doc");
        doc.put("content", List.of(Map.of("type", "paragraph", "content", List.of(Map.of("type", "text", "text", "")))));
        var e = assertThrows(IllegalArgumentException.class, () -> ProseMirrorEncoder.encode(doc, "f", 1, 0));
        assertEquals("content[0].content[0].text must be a non-empty string", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ProseMirrorEncoder.encode(List.of(), "f", 1, 0));
        assertThrows(IllegalArgumentException.class, () -> ProseMirrorEncoder.encode(Map.of("type", "paragraph"), "f", 1, 0));
        assertFalse(YUpdates.isEmpty(ProseMirrorEncoder.encode(Map.of("type", "doc", "content", List.of(Map.of("type", "p"))), "f", 1, 0)));
    }

    @Test
    void numbersPrintAsJavaScriptPrintsThem() {
        assertEquals("1", JsValues.number(1.0));
        assertEquals("0.1", JsValues.number(0.1));
        assertEquals("1e-7", JsValues.number(1e-7));
        assertEquals("0.000001", JsValues.number(1e-6));
        assertEquals("1e+21", JsValues.number(1e21));
        assertEquals("100000000000000000000", JsValues.number(1e20));
        assertEquals("-1.5e+300", JsValues.number(-1.5e300));
        assertEquals("0.10000000149011612", JsValues.number((double) 0.1f));
        assertEquals("{\"1\":1,\"a\":2,\"01\":3}", JsValues.stringify(new LinkedHashMap<>(Map.of("1", 1L)) {{
            clear(); put("a", 2L); put("01", 3L); put("1", 1L);
        }}));
    }
}
