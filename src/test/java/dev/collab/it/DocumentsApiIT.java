package dev.collab.it;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import dev.collab.testing.YTestUpdates;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP document API against the real server: listing, metadata, backend writes, steps content, deletion. */
class DocumentsApiIT {
    private static final String ADMIN = "Bearer " + TestServer.ADMIN_TOKEN;

    @TempDir
    static Path dir;
    static TestServer server;
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        server = TestServer.start(dir.resolve("docs.db"));
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @AfterEach
    void closeClients() {
        clients.forEach(WsClient::close);
    }

    private WsClient join(String doc, String clientId) throws Exception {
        WsClient c = server.connect(doc, clientId);
        clients.add(c);
        c.nextStrict("connected");
        return c;
    }

    private static TestServer.Reply post(String doc, byte[] update) throws Exception {
        return server.request("POST", "/documents/" + doc + "/updates", ADMIN, update);
    }

    private static String step(int n) {
        return "{\"stepType\":\"replace\",\"from\":" + n + ",\"to\":" + n
                + ",\"slice\":{\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}}";
    }

    @Test
    void listsStoredDocumentsInIdOrderWithPagesAndPrefix() throws Exception {
        for (String doc : List.of("list-b", "list-a", "list-c", "other-1")) {
            assertEquals(204, post(doc, YTestUpdates.insertText(3, "t", doc)).status());
        }
        TestServer.Reply first = server.get("/documents?prefix=list-&limit=2", ADMIN);
        assertEquals(200, first.status(), first::toString);
        JsonObject page = first.body().asJsonObject();
        JsonArray docs = page.getJsonArray("documents");
        assertEquals(List.of("list-a", "list-b"), ids(docs));
        JsonObject a = docs.getJsonObject(0);
        assertEquals("yjs", a.getString("kind"));
        assertTrue(a.getJsonNumber("bytes").longValue() > 0);
        assertEquals(0, a.getInt("connections"));
        Instant.parse(a.getString("updatedAt"));
        String next = page.getString("next");

        JsonObject second = server.get("/documents?prefix=list-&limit=2&after="
                + URLEncoder.encode(next, StandardCharsets.UTF_8), ADMIN).body().asJsonObject();
        assertEquals(List.of("list-c"), ids(second.getJsonArray("documents")));
        assertEquals(JsonValue.NULL, second.get("next"));

        assertEquals(400, server.get("/documents?limit=0", ADMIN).status());
        assertEquals(401, server.get("/documents", null).status());
    }

    @Test
    void metadataOfYjsAndStepsDocumentsAnd404ForOneNeverWritten() throws Exception {
        assertEquals(404, server.get("/documents/never-written", ADMIN).status());

        post("meta-yjs", YTestUpdates.insertText(5, "t", "hello"));
        WsClient viewer = join("meta-yjs", "viewer");
        JsonObject yjs = server.get("/documents/meta-yjs", ADMIN).body().asJsonObject();
        assertEquals("meta-yjs", yjs.getString("documentId"));
        assertEquals("yjs", yjs.getString("kind"));
        assertEquals(0, yjs.getInt("version"));
        assertEquals(1, yjs.getInt("updates"));
        assertEquals(1, yjs.getInt("connections"));
        assertFalse(Instant.parse(yjs.getString("updatedAt")).isBefore(Instant.parse(yjs.getString("createdAt"))));
        viewer.close();

        WsClient writer = join("meta-steps", "w");
        writer.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(0) + "," + step(1) + "]}");
        writer.next("steps");
        JsonObject steps = server.get("/documents/meta-steps", ADMIN).body().asJsonObject();
        assertEquals("steps", steps.getString("kind"));
        assertEquals(2, steps.getInt("version"));
        assertEquals(0, steps.getInt("updates"));
    }

    @Test
    void backendUpdateIsValidatedCommittedAndRelayedToConnectedClients() throws Exception {
        WsClient client = join("backend-write", "listener");
        client.send("{\"type\":\"sync\"}");
        client.next("synced");
        byte[] update = YTestUpdates.insertText(11, "t", "from the backend");

        TestServer.Reply reply = post("backend-write", update);
        assertEquals(204, reply.status(), reply::toString);
        JsonObject relayed = client.next("update");
        assertArrayEquals(update, Base64.getDecoder().decode(relayed.getString("update")));

        TestServer.Reply bad = post("backend-write", new byte[]{1, 2, 3});
        assertEquals(400, bad.status(), bad::toString);
        assertEquals("invalid-update", bad.body().asJsonObject().getString("error"));
        client.roundTrip();
        client.assertNothingPending();   // the refused update reached nobody
        assertEquals(1, server.get("/documents/backend-write", ADMIN).body().asJsonObject().getInt("updates"));
        assertEquals(401, server.request("POST", "/documents/backend-write/updates", null, update).status());
    }

    @Test
    void stepsContentIsTheNewestSnapshotAndTheStepsAfterIt() throws Exception {
        WsClient c = join("steps-content", "author");
        c.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(0) + "," + step(1) + "," + step(2) + "]}");
        c.next("steps");
        c.send("{\"type\":\"snapshot\",\"version\":2,\"id\":\"s1\",\"doc\":{\"type\":\"doc\",\"content\":[]}}");
        assertEquals("s1", c.next("ack").getString("id"));
        c.send("{\"type\":\"snapshot\",\"version\":1,\"doc\":{\"type\":\"doc\",\"content\":[{\"type\":\"old\"}]}}");
        c.next("ack");                   // accepted, but older than the stored one: the newest is kept
        c.send("{\"type\":\"snapshot\",\"version\":9,\"doc\":{\"type\":\"doc\"}}");
        assertEquals("invalid-version", c.next("error").getString("code"));

        TestServer.Reply reply = server.get("/documents/steps-content/content", ADMIN);
        assertEquals(200, reply.status(), reply::toString);
        JsonObject content = reply.body().asJsonObject();
        assertEquals("steps", content.getString("kind"));
        assertEquals(3, content.getInt("version"));
        assertEquals(2, content.getJsonObject("snapshot").getInt("version"));
        assertEquals(JsonValue.EMPTY_JSON_ARRAY, content.getJsonObject("snapshot").getJsonObject("doc")
                .getJsonArray("content"));
        assertEquals(1, content.getJsonArray("steps").size());
        assertEquals(2, content.getJsonArray("steps").getJsonObject(0).getInt("from"));
        assertEquals(List.of("author"), content.getJsonArray("clientIDs").getValuesAs(
                jakarta.json.JsonString.class).stream().map(jakarta.json.JsonString::getString).toList());
    }

    @Test
    void deleteClosesConnectionsWith4404AndALaterConnectionStartsEmpty() throws Exception {
        WsClient c = join("to-delete", "w");
        c.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(0) + "]}");
        c.next("steps");

        assertEquals(204, server.request("DELETE", "/documents/to-delete", ADMIN, null).status());
        WsClient.Close close = c.awaitClose();
        assertEquals(4404, close.code());
        assertEquals("document deleted", close.reason());
        assertEquals(404, server.get("/documents/to-delete", ADMIN).status());
        assertEquals(404, server.request("DELETE", "/documents/to-delete", ADMIN, null).status());

        WsClient again = server.connect("to-delete", "w2");
        clients.add(again);
        assertEquals(0, again.nextStrict("connected").getInt("version"));
        again.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(0) + "]}");
        assertEquals(0, again.next("steps").getInt("version"));
        assertEquals(1, server.get("/documents/to-delete", ADMIN).body().asJsonObject().getInt("version"));
    }

    private static List<String> ids(JsonArray docs) {
        return docs.stream().map(v -> v.asJsonObject().getString("documentId")).toList();
    }
}
