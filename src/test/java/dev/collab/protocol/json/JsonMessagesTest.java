package dev.collab.protocol.json;

import dev.collab.protocol.JsonOut;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.YUpdates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonMessagesTest {
    private static final String DOC = "doc-1";
    private static final String STEP = "{\"stepType\":\"replace\",\"from\":1,\"to\":1}";
    private static final String UPDATE_B64 = Base64.getEncoder().encodeToString(YTestUpdates.insertText(7, "t", "hi"));

    static Stream<Arguments> badMessages() {
        return Stream.of(
                // not JSON / not an object
                Arguments.of("{", "invalid-json"),
                Arguments.of("", "invalid-json"),
                Arguments.of("{\"type\":\"ping\"", "invalid-json"),
                Arguments.of("{'type':'ping'}", "invalid-json"),
                Arguments.of("[{\"type\":\"ping\"}]", "not-an-object"),
                Arguments.of("\"ping\"", "not-an-object"),
                Arguments.of("42", "not-an-object"),
                Arguments.of("null", "not-an-object"),
                // type
                Arguments.of("{}", "missing-type"),
                Arguments.of("{\"documentId\":\"doc-1\"}", "missing-type"),
                Arguments.of("{\"type\":1}", "invalid-field"),
                Arguments.of("{\"type\":null}", "invalid-field"),
                Arguments.of("{\"type\":[\"sync\"]}", "invalid-field"),
                Arguments.of("{\"type\":\"bogus\"}", "unknown-type"),
                Arguments.of("{\"type\":\"SYNC\"}", "unknown-type"),
                Arguments.of("{\"type\":\"\"}", "unknown-type"),
                // documentId
                Arguments.of("{\"type\":\"sync\",\"documentId\":5}", "invalid-field"),
                Arguments.of("{\"type\":\"sync\",\"documentId\":\"other\"}", "document-mismatch"),
                Arguments.of("{\"type\":\"steps\",\"documentId\":\"other\",\"version\":0,\"steps\":[" + STEP + "]}",
                        "document-mismatch"),
                Arguments.of("{\"type\":\"update\",\"documentId\":\"other\",\"update\":\"" + UPDATE_B64 + "\"}",
                        "document-mismatch"),
                Arguments.of("{\"type\":\"awareness\",\"documentId\":\"other\",\"state\":{}}", "document-mismatch"),
                Arguments.of("{\"type\":\"message\",\"documentId\":\"other\",\"payload\":1}", "document-mismatch"),
                Arguments.of("{\"type\":\"sync\",\"documentId\":\"DOC-1\"}", "document-mismatch"),
                // version
                Arguments.of("{\"type\":\"sync\",\"version\":\"3\"}", "invalid-version"),
                Arguments.of("{\"type\":\"sync\",\"version\":-1}", "invalid-version"),
                Arguments.of("{\"type\":\"sync\",\"version\":1.5}", "invalid-version"),
                Arguments.of("{\"type\":\"sync\",\"version\":true}", "invalid-version"),
                Arguments.of("{\"type\":\"steps\",\"steps\":[" + STEP + "]}", "missing-field"),
                Arguments.of("{\"type\":\"steps\",\"version\":null,\"steps\":[" + STEP + "]}", "invalid-version"),
                Arguments.of("{\"type\":\"steps\",\"version\":-1,\"steps\":[" + STEP + "]}", "invalid-version"),
                Arguments.of("{\"type\":\"steps\",\"version\":0.5,\"steps\":[" + STEP + "]}", "invalid-version"),
                Arguments.of("{\"type\":\"steps\",\"version\":\"0\",\"steps\":[" + STEP + "]}", "invalid-version"),
                Arguments.of("{\"type\":\"steps\",\"version\":3000000000,\"steps\":[" + STEP + "]}", "invalid-version"),
                Arguments.of("{\"type\":\"steps\",\"version\":1e30,\"steps\":[" + STEP + "]}", "invalid-version"),
                // steps
                Arguments.of("{\"type\":\"steps\",\"version\":0}", "missing-field"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[]}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":{}}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":" + STEP + "}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":\"[]\"}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":null}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[1]}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[\"" + "x" + "\"]}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[null]}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[[]]}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[{}]}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[{\"stepType\":5}]}", "invalid-steps"),
                Arguments.of("{\"type\":\"steps\",\"version\":0,\"steps\":[" + STEP + ",7]}", "invalid-steps"),
                // update
                Arguments.of("{\"type\":\"update\"}", "missing-field"),
                Arguments.of("{\"type\":\"update\",\"update\":5}", "invalid-field"),
                Arguments.of("{\"type\":\"update\",\"update\":null}", "invalid-field"),
                Arguments.of("{\"type\":\"update\",\"update\":[1,1,0]}", "invalid-field"),
                Arguments.of("{\"type\":\"update\",\"update\":\"not base64!\"}", "invalid-field"),
                Arguments.of("{\"type\":\"update\",\"update\":\"AQ\\nE=\"}", "invalid-field"),
                // sync state vector
                Arguments.of("{\"type\":\"sync\",\"stateVector\":5}", "invalid-field"),
                Arguments.of("{\"type\":\"sync\",\"stateVector\":\"%%%\"}", "invalid-field"),
                Arguments.of("{\"type\":\"sync\",\"stateVector\":\"/w==\"}", "invalid-state-vector"),
                Arguments.of("{\"type\":\"sync\",\"stateVector\":\"Ag==\"}", "invalid-state-vector"),
                // awareness and messages
                Arguments.of("{\"type\":\"awareness\"}", "missing-field"),
                Arguments.of("{\"type\":\"awareness\",\"state\":5}", "invalid-field"),
                Arguments.of("{\"type\":\"ping\"} {\"type\":\"ping\"}", "invalid-json"),
                Arguments.of("{\"type\":\"ping\"} trailing", "invalid-json"),
                Arguments.of("{\"type\":\"awareness\",\"state\":\"me\"}", "invalid-field"),
                Arguments.of("{\"type\":\"awareness\",\"state\":[1]}", "invalid-field"),
                Arguments.of("{\"type\":\"awareness\",\"state\":true}", "invalid-field"),
                Arguments.of("{\"type\":\"message\"}", "missing-field"),
                Arguments.of("{\"type\":\"message\",\"payload\":1,\"to\":\"c2\"}", "invalid-field"),
                Arguments.of("{\"type\":\"message\",\"payload\":1,\"to\":{\"id\":5}}", "invalid-field"),
                Arguments.of("{\"type\":\"message\",\"payload\":1,\"to\":{}}", "invalid-field"),
                Arguments.of("{\"type\":\"message\",\"payload\":1,\"messageType\":5}", "invalid-field"));
    }

    @ParameterizedTest(name = "[{index}] {1}: {0}")
    @MethodSource("badMessages")
    void badMessagesAreRefusedWithACodeAndASentence(String text, String code) {
        JsonProtocolException e = assertThrows(JsonProtocolException.class, () -> JsonMessages.parse(text, DOC));
        assertEquals(code, e.code());
        assertTrue(e.code().matches("[a-z]+(-[a-z]+)*"), "kebab-case code");
        assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a human sentence");
    }

    @Test
    void errorSentencesDoNotEchoHugeInput() {
        String longType = "x".repeat(10_000);
        JsonProtocolException e = assertThrows(JsonProtocolException.class,
                () -> JsonMessages.parse("{\"type\":\"" + longType + "\"}", DOC));
        assertEquals("unknown-type", e.code());
        assertTrue(e.getMessage().length() < 200, e.getMessage());
    }

    // ---- good messages ------------------------------------------------------------------------------------

    @Test
    void syncMessages() throws Exception {
        assertEquals(new JsonCommand.Sync(null, null), JsonMessages.parse("{\"type\":\"sync\"}", DOC));
        assertEquals(new JsonCommand.Sync(null, null),
                JsonMessages.parse("{\"type\":\"sync\",\"documentId\":null,\"version\":null,\"stateVector\":null}", DOC));
        assertEquals(new JsonCommand.Sync(0, null),
                JsonMessages.parse("{\"type\":\"sync\",\"documentId\":\"doc-1\",\"version\":0}", DOC));
        byte[] sv = YUpdates.encodeStateVector(Map.of(7L, 2L, 9L, 1L));
        JsonCommand.Sync sync = assertInstanceOf(JsonCommand.Sync.class, JsonMessages.parse(
                "{\"type\":\"sync\",\"documentId\":\"doc-1\",\"version\":12,\"stateVector\":\""
                        + Base64.getEncoder().encodeToString(sv) + "\",\"extra\":true}", DOC));
        assertEquals(12, sync.version());
        assertArrayEquals(sv, sync.stateVector());
        JsonCommand.Sync empty = assertInstanceOf(JsonCommand.Sync.class,
                JsonMessages.parse("{\"type\":\"sync\",\"stateVector\":\"AA==\"}", DOC));
        assertArrayEquals(new byte[] {0}, empty.stateVector(), "an empty state vector is a valid one");
    }

    @Test
    void stepsMessages() throws Exception {
        String second = "{\"stepType\":\"addMark\",\"from\":1,\"to\":4,\"mark\":{\"type\":\"em\"}}";
        JsonCommand.Steps steps = assertInstanceOf(JsonCommand.Steps.class, JsonMessages.parse(
                "{\"type\":\"steps\",\"documentId\":\"doc-1\",\"version\":3,\"steps\":[" + STEP + ", " + second
                        + "],\"clientID\":\"ignored\"}", DOC));
        assertEquals(3, steps.version());
        assertEquals(List.of(STEP, second), steps.steps(), "each step kept as compact JSON text");
        assertEquals(new JsonCommand.Steps(0, List.of(STEP)),
                JsonMessages.parse("{\"type\":\"steps\",\"version\":0,\"steps\":[ " + STEP + " ]}", DOC));
        assertEquals(Integer.MAX_VALUE, ((JsonCommand.Steps) JsonMessages.parse(
                "{\"type\":\"steps\",\"version\":2147483647,\"steps\":[" + STEP + "]}", DOC)).version(),
                "the parser accepts any int; the room checks it against the head");
    }

    @Test
    void updateMessages() throws Exception {
        JsonCommand.Update update = assertInstanceOf(JsonCommand.Update.class, JsonMessages.parse(
                "{\"type\":\"update\",\"documentId\":\"doc-1\",\"update\":\"" + UPDATE_B64 + "\"}", DOC));
        assertArrayEquals(YTestUpdates.insertText(7, "t", "hi"), update.update());
        assertNull(update.idJson());
        assertEquals("42", ((JsonCommand.Update) JsonMessages.parse(
                "{\"type\":\"update\",\"update\":\"" + UPDATE_B64 + "\",\"id\":42}", DOC)).idJson());
        assertEquals("\"u-1\"", ((JsonCommand.Update) JsonMessages.parse(
                "{\"type\":\"update\",\"update\":\"" + UPDATE_B64 + "\",\"id\":\"u-1\"}", DOC)).idJson());
        assertEquals("{\"n\":1}", ((JsonCommand.Update) JsonMessages.parse(
                "{\"type\":\"update\",\"update\":\"" + UPDATE_B64 + "\",\"id\":{\"n\":1}}", DOC)).idJson());
        // base64 that decodes is accepted here; whether it is a Yjs update is the room's check
        assertArrayEquals(new byte[] {(byte) 0xde, (byte) 0xad}, ((JsonCommand.Update) JsonMessages.parse(
                "{\"type\":\"update\",\"update\":\"3q0=\"}", DOC)).update());
    }

    @Test
    void awarenessMessages() throws Exception {
        assertEquals(new JsonCommand.Awareness("{\"user\":{\"name\":\"Ann\"},\"cursor\":{\"anchor\":3,\"head\":5}}"),
                JsonMessages.parse("{\"type\":\"awareness\",\"state\":{\"user\":{\"name\":\"Ann\"},"
                        + " \"cursor\":{\"anchor\":3,\"head\":5}}}", DOC));
        assertEquals(new JsonCommand.Awareness("null"),
                JsonMessages.parse("{\"type\":\"awareness\",\"documentId\":\"doc-1\",\"state\":null}", DOC));
    }

    @Test
    void applicationMessagesAndPing() throws Exception {
        assertEquals(new JsonCommand.Message(null, "{\"a\":[1,2]}", null),
                JsonMessages.parse("{\"type\":\"message\",\"payload\":{\"a\":[1,2]}}", DOC));
        assertEquals(new JsonCommand.Message("chat", "\"hi\"", "c2"), JsonMessages.parse(
                "{\"type\":\"message\",\"messageType\":\"chat\",\"payload\":\"hi\",\"to\":{\"id\":\"c2\"}}", DOC));
        assertEquals(new JsonCommand.Message(null, "null", null),
                JsonMessages.parse("{\"type\":\"message\",\"payload\":null,\"to\":null,\"messageType\":null}", DOC));
        assertEquals(new JsonCommand.Ping(), JsonMessages.parse("{\"type\":\"ping\"}", DOC));
        assertEquals(new JsonCommand.Ping(), JsonMessages.parse(" {\"type\" : \"ping\", \"t\": 1} ", DOC));
    }

    // ---- outbound encoding --------------------------------------------------------------------------------

    @Test
    void outboundJsonEscapesStrings() {
        String out = JsonOut.object().field("type", "error").field("message", "a \"quote\" \\ and\nnewline\u0001\u2028")
                .field("n", 5).stringArray("ids", List.of("a", "b\"")).rawArray("steps", List.of(STEP)).end();
        assertEquals("{\"type\":\"error\",\"message\":\"a \\\"quote\\\" \\\\ and\\nnewline\\u0001\\u2028\","
                + "\"n\":5,\"ids\":[\"a\",\"b\\\"\"],\"steps\":[" + STEP + "]}", out);
        // and what it writes parses back
        try (var reader = jakarta.json.Json.createReader(new java.io.StringReader(out))) {
            assertEquals("a \"quote\" \\ and\nnewline\u0001\u2028", reader.readObject().getString("message"));
        }
    }
}
