package dev.collab.it;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import dev.collab.testing.YTestUpdates;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * docs/openapi.yaml against the live server: it is served at /openapi.yaml, every documented path and method
 * answers with a documented status, JSON bodies have the documented required fields (with their types, through
 * $refs, arrays and nullable fields), and secured operations refuse a request without a token as documented.
 */
class OpenApiContractIT {
    private static final String ADMIN = "Bearer " + TestServer.ADMIN_TOKEN;

    @TempDir
    static Path dir;
    static TestServer server;
    static Map<String, Object> spec;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void start() throws Exception {
        server = TestServer.start(dir.resolve("openapi.db"));
        spec = new Yaml().load(Files.readString(Path.of("docs/openapi.yaml")));
        assertEquals(204, server.request("POST", "/documents/api-yjs/updates", ADMIN,
                YTestUpdates.insertText(4, "t", "hi")).status());
        try (WsClient c = server.connect("api-steps", "author")) {
            c.nextStrict("connected");
            c.send("{\"type\":\"steps\",\"version\":0,\"steps\":[{\"stepType\":\"replace\",\"from\":0,\"to\":0}]}");
            c.next("steps");
            c.send("{\"type\":\"snapshot\",\"version\":1,\"doc\":{\"type\":\"doc\",\"content\":[]}}");
            c.next("ack");
        }
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void theServedDocumentIsTheFile() throws Exception {
        TestServer.Reply reply = server.get("/openapi.yaml", null);
        assertEquals(200, reply.status());
        assertEquals(Files.readString(Path.of("docs/openapi.yaml")), reply.raw().body());
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyDocumentedOperationAnswersAsDocumented() throws Exception {
        Map<String, Object> paths = (Map<String, Object>) spec.get("paths");
        List<String> checked = new ArrayList<>();
        int deletions = 0;
        for (Map.Entry<String, Object> path : paths.entrySet()) {
            for (Map.Entry<String, Object> op : ((Map<String, Object>) path.getValue()).entrySet()) {
                if (op.getKey().equals("parameters")) {
                    continue;
                }
                String method = op.getKey().toUpperCase();
                Map<String, Object> operation = (Map<String, Object>) op.getValue();
                String doc = documentFor(path.getKey(), method, deletions);
                if (method.equals("DELETE")) {
                    deletions++;
                    server.request("POST", "/documents/" + doc + "/updates", ADMIN, YTestUpdates.insertText(9, "t", "x"));
                }
                String url = path.getKey().replace("{id}", doc);
                byte[] body = !method.equals("POST") ? null : path.getKey().endsWith("/content")
                        ? "{\"type\":\"doc\",\"content\":[{\"type\":\"paragraph\"}]}".getBytes()
                        : YTestUpdates.insertText(5, "t", "posted");
                TestServer.Reply reply = server.request(method, url, ADMIN, body);
                Map<String, Object> responses = (Map<String, Object>) operation.get("responses");
                String status = Integer.toString(reply.status());
                assertTrue(responses.containsKey(status), () -> method + " " + url + " answered an undocumented "
                        + reply);
                Map<String, Object> response = resolve((Map<String, Object>) responses.get(status));
                Map<String, Object> content = (Map<String, Object>) response.get("content");
                if (content != null && content.containsKey("application/json")) {
                    Map<String, Object> schema = (Map<String, Object>) ((Map<String, Object>)
                            content.get("application/json")).get("schema");
                    JsonValue json = Json.createReader(new StringReader(reply.raw().body())).readValue();
                    conforms(json, schema, method + " " + url);
                } else if (content != null) {
                    String type = content.keySet().iterator().next();
                    assertTrue(reply.raw().headers().firstValue("content-type").orElse("").startsWith(type),
                            () -> method + " " + url + " should answer " + type + ": " + reply);
                }
                // operations whose security lists no requirement (or an empty one) are open to anonymous callers
                List<?> security = (List<?>) operation.getOrDefault("security", spec.get("security"));
                if (security.stream().noneMatch(r -> ((Map<?, ?>) r).isEmpty()) && !security.isEmpty()) {
                    TestServer.Reply anonymous = server.request(method, url, null, body);
                    assertTrue(responses.containsKey(Integer.toString(anonymous.status()))
                                    && anonymous.status() >= 400,
                            () -> method + " " + url + " without a token: " + anonymous);
                }
                checked.add(method + " " + path.getKey());
            }
        }
        assertTrue(checked.contains("GET /documents") && checked.contains("DELETE /documents/{id}"), checked::toString);
    }

    /** A document the operation can act on: the steps document for steps content, a fresh one to delete. */
    private static String documentFor(String path, String method, int deletions) {
        if (method.equals("DELETE")) {
            return "api-doomed-" + deletions;
        }
        if (method.equals("POST") && path.endsWith("/content")) {
            return "api-seeded";
        }
        return path.endsWith("/content") || path.endsWith("/steps") ? "api-steps" : "api-yjs";
    }

    // ---- a small JSON Schema (OpenAPI 3.0 subset) check ------------------------------------------------

    @SuppressWarnings("unchecked")
    private static Map<String, Object> resolve(Map<String, Object> node) {
        Object ref = node.get("$ref");
        if (ref == null) {
            return node;
        }
        Object target = spec;
        for (String part : ((String) ref).substring(2).split("/")) {
            target = ((Map<String, Object>) target).get(part);
        }
        return resolve((Map<String, Object>) target);
    }

    @SuppressWarnings("unchecked")
    private static void conforms(JsonValue value, Map<String, Object> schemaOrRef, String where) {
        Map<String, Object> schema = resolve(schemaOrRef);
        if (schema.get("oneOf") instanceof List<?> choices) {
            List<String> misses = new ArrayList<>();
            for (Object choice : choices) {
                try {
                    conforms(value, (Map<String, Object>) choice, where);
                    return;
                } catch (AssertionError e) {
                    misses.add(e.getMessage());
                }
            }
            fail(where + " matches none of its oneOf schemas: " + misses);
        }
        if (schema.get("allOf") instanceof List<?> all) {
            all.forEach(part -> conforms(value, (Map<String, Object>) part, where));
            return;
        }
        if (value == JsonValue.NULL) {
            assertEquals(Boolean.TRUE, schema.get("nullable"), where + " is null but not nullable");
            return;
        }
        String type = (String) schema.get("type");
        if (type == null) {
            return;
        }
        switch (type) {
            case "object" -> {
                assertTrue(value instanceof JsonObject, () -> where + " should be an object: " + value);
                JsonObject object = value.asJsonObject();
                for (String required : (List<String>) schema.getOrDefault("required", List.of())) {
                    assertTrue(object.containsKey(required), () -> where + " lacks required " + required + ": " + value);
                }
                Map<String, Object> properties = (Map<String, Object>) schema.getOrDefault("properties", Map.of());
                properties.forEach((name, property) -> {
                    if (object.containsKey(name)) {
                        conforms(object.get(name), (Map<String, Object>) property, where + "." + name);
                    }
                });
            }
            case "array" -> {
                assertTrue(value instanceof JsonArray, () -> where + " should be an array: " + value);
                JsonArray array = value.asJsonArray();
                for (int i = 0; i < array.size(); i++) {
                    conforms(array.get(i), (Map<String, Object>) schema.get("items"), where + "[" + i + "]");
                }
            }
            case "integer" -> assertTrue(value instanceof JsonNumber n && n.isIntegral(),
                    () -> where + " should be an integer: " + value);
            case "string" -> {
                if (!(value instanceof JsonString s)) {
                    fail(where + " should be a string: " + value);
                    return;
                }
                if (schema.get("enum") instanceof List<?> allowed) {
                    assertTrue(allowed.contains(s.getString()), () -> where + " is not one of " + allowed);
                }
                if ("date-time".equals(schema.get("format"))) {
                    assertFalse(Instant.parse(s.getString()).isAfter(Instant.now().plusSeconds(60)), where);
                }
            }
            default -> fail("the checker does not know type " + type + " at " + where);
        }
    }
}
