package dev.collab.it;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import dev.collab.testing.Await;
import dev.collab.testing.YTestUpdates;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real server on a random port with a temporary database, spoken to over real WebSockets. */
class JsonProtocolIT {
    private static final AtomicInteger DOCS = new AtomicInteger();

    @TempDir
    static Path dir;
    static TestServer server;
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        server = TestServer.start(dir.resolve("it.db"));
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @AfterEach
    void closeClients() {
        clients.forEach(WsClient::close);
    }

    private static String newDoc() {
        return "it-doc-" + DOCS.incrementAndGet();
    }

    private WsClient connect(String doc, String clientId) throws Exception {
        WsClient c = server.connect(doc, clientId);
        clients.add(c);
        return c;
    }

    /** Connects and takes the {@code connected} greeting. */
    private WsClient join(String doc, String clientId) throws Exception {
        WsClient c = connect(doc, clientId);
        c.nextStrict("connected");
        return c;
    }

    private static String step(int n) {
        return "{\"stepType\":\"replace\",\"from\":" + n + ",\"to\":" + n
                + ",\"slice\":{\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}}";
    }

    private static JsonArray json(String array) {
        return Json.createReader(new java.io.StringReader(array)).readArray();
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    // ---- opening ------------------------------------------------------------------------------------------

    @Test
    void theFirstMessageIsConnectedWithVersionAndConnectionCount() throws Exception {
        String doc = newDoc();
        WsClient alice = connect(doc, "alice");
        assertEquals(Json.createObjectBuilder().add("type", "connected").add("documentId", doc)
                .add("clientID", "alice").add("version", 0).add("connections", 1).build(), alice.next());

        WsClient anonymous = connect(doc, null);
        JsonObject greeting = anonymous.nextStrict("connected");
        assertEquals(Set.of("type", "documentId", "clientID", "version", "connections"), greeting.keySet());
        String generated = greeting.getString("clientID");
        assertFalse(generated.isBlank(), "a missing clientID gets a generated one");
        assertFalse(generated.equals("alice"));
        assertEquals(2, greeting.getInt("connections"));

        // ids are URL-decoded from the query
        String odd = "doc with spaces/ü&=?" + DOCS.incrementAndGet();
        WsClient c = connect(odd, "client ü");
        JsonObject g = c.nextStrict("connected");
        assertEquals(odd, g.getString("documentId"));
        assertEquals("client ü", g.getString("clientID"));
    }

    @Test
    void anUpgradeWithoutDocumentIdIsRefused() {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> WsClient.connect(server.http, WsClient.jsonUri(server.port(), null, "c")));
        WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
        assertEquals(400, refused.getResponse().statusCode());
    }

    @Test
    void aSecondConnectionWithTheSameClientIdReplacesTheFirst() throws Exception {
        String doc = newDoc();
        WsClient first = join(doc, "dup");
        WsClient other = join(doc, "other");
        WsClient second = connect(doc, "dup");
        assertEquals(2, second.nextStrict("connected").getInt("connections"));
        WsClient.Close close = first.awaitClose();
        assertTrue(close.code() >= 4000 && close.code() < 5000, "4000-range close, got " + close);
        assertFalse(close.reason().isBlank());
        // the newer one works
        second.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(1) + "]}");
        assertEquals("dup", second.next("steps").getJsonArray("clientIDs").getString(0));
        assertEquals("dup", other.next("steps").getJsonArray("clientIDs").getString(0));
    }

    @Test
    void theServerAnswersWebSocketPingsAndJsonPings() throws Exception {
        WsClient c = join(newDoc(), "pinger");
        byte[] payload = {1, 2, 3, 'h', 'i'};
        assertEquals(java.util.Arrays.toString(payload), java.util.Arrays.toString(c.ping(payload)));
        c.send("{\"type\":\"ping\"}");
        assertEquals(Json.createObjectBuilder().add("type", "pong").build(), c.nextStrict("pong"));
    }

    // ---- ProseMirror steps --------------------------------------------------------------------------------

    @Test
    void acceptedStepsGoToEveryoneIncludingTheSenderAndStaleOnesConflict() throws Exception {
        String doc = newDoc();
        WsClient alice = join(doc, "alice");
        WsClient bob = join(doc, "bob");

        alice.send("{\"type\":\"steps\",\"documentId\":\"" + doc + "\",\"version\":0,\"steps\":[" + step(1) + ","
                + step(2) + "]}");
        JsonObject expected = Json.createObjectBuilder().add("type", "steps").add("version", 0)
                .add("steps", json("[" + step(1) + "," + step(2) + "]"))
                .add("clientIDs", Json.createArrayBuilder().add("alice").add("alice")).build();
        assertEquals(expected, alice.nextStrict("steps"));
        assertEquals(expected, bob.nextStrict("steps"));

        // bob had not seen alice's steps: stale
        bob.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(9) + "]}");
        assertEquals(Json.createObjectBuilder().add("type", "conflict").add("version", 2).build(),
                bob.nextStrict("conflict"));
        bob.send("{\"type\":\"steps\",\"version\":1,\"steps\":[" + step(9) + "]}");
        assertEquals(2, bob.nextStrict("conflict").getInt("version"));

        // only bob heard about it, and nothing was stored: alice's next submission at 2 is accepted
        alice.send("{\"type\":\"steps\",\"version\":2,\"steps\":[" + step(3) + "]}");
        JsonObject third = alice.nextStrict("steps");
        assertEquals(2, third.getInt("version"));
        assertEquals(third, bob.nextStrict("steps"));

        // a late joiner starts at version 3 and catches up from 0
        WsClient carol = connect(doc, "carol");
        assertEquals(3, carol.nextStrict("connected").getInt("version"));
        carol.send("{\"type\":\"sync\",\"documentId\":\"" + doc + "\",\"version\":0}");
        JsonObject history = carol.nextStrict("steps");
        assertEquals(0, history.getInt("version"));
        assertEquals(json("[" + step(1) + "," + step(2) + "," + step(3) + "]"), history.getJsonArray("steps"));
        assertEquals(json("[\"alice\",\"alice\",\"alice\"]"), history.getJsonArray("clientIDs"));
        assertEquals(Json.createObjectBuilder().add("type", "synced").add("documentId", doc).add("version", 3).build(),
                carol.nextStrict("synced"));
        alice.assertNothingPending();
    }

    // ---- Yjs updates --------------------------------------------------------------------------------------

    @Test
    void aYjsUpdateIsRelayedToOthersAndAckedWithItsId() throws Exception {
        String doc = newDoc();
        WsClient alice = join(doc, "alice");
        WsClient bob = join(doc, "bob");
        String update = b64(YTestUpdates.insertText(7, "t", "hello"));

        alice.send("{\"type\":\"update\",\"update\":\"" + update + "\",\"id\":\"u-1\"}");
        assertEquals(Json.createObjectBuilder().add("type", "ack").add("id", "u-1").build(), alice.nextStrict("ack"));
        assertEquals(Json.createObjectBuilder().add("type", "update").add("update", update).build(),
                bob.nextStrict("update"));

        String second = b64(YTestUpdates.appendAfter(7, 5, 7, 4, "!"));
        alice.send("{\"type\":\"update\",\"update\":\"" + second + "\"}");
        assertEquals(Json.createObjectBuilder().add("type", "ack").build(), alice.nextStrict("ack"),
                "no id sent, no id echoed");
        assertEquals(second, bob.nextStrict("update").getString("update"));
        alice.send("{\"type\":\"update\",\"update\":\"" + b64(YTestUpdates.appendAfter(7, 6, 7, 5, "?"))
                + "\",\"id\":17}");
        assertEquals(17, alice.nextStrict("ack").getInt("id"));
        bob.nextStrict("update");
        // the sender never gets its own update back (the ack is sent after the relay)
        alice.assertNothingPending();

        // a newcomer gets the merged state in one update
        WsClient carol = join(doc, "carol");
        carol.send("{\"type\":\"sync\"}");
        byte[] state = Base64.getDecoder().decode(carol.nextStrict("update").getString("update"));
        assertEquals(java.util.Map.of(7L, 7L), dev.collab.yjs.YUpdates.decodeStateVector(
                dev.collab.yjs.YUpdates.stateVector(state)));
        carol.nextStrict("synced");
    }

    @Test
    void anInvalidYjsUpdateIsRefusedAndNotRelayed() throws Exception {
        String doc = newDoc();
        WsClient alice = join(doc, "alice");
        WsClient bob = join(doc, "bob");
        byte[] good = YTestUpdates.insertText(7, "t", "ok");
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 2);
        for (String bad : List.of("3q2+7w==", b64(truncated), "", b64(new byte[] {1, 1, 7, 0, 4}))) {
            alice.send("{\"type\":\"update\",\"update\":\"" + bad + "\",\"id\":\"bad\"}");
            JsonObject error = alice.nextStrict("error");
            assertEquals("invalid-update", error.getString("code"), "for " + bad);
            assertFalse(error.getString("message").isBlank());
        }
        alice.send("{\"type\":\"update\",\"update\":\"" + b64(good) + "\",\"id\":\"good\"}");
        assertEquals("good", alice.nextStrict("ack").getString("id"));
        // bob's first update is the good one: none of the bad ones reached him
        assertEquals(b64(good), bob.nextStrict("update").getString("update"));
        bob.assertNothingPending();
    }

    // ---- awareness ----------------------------------------------------------------------------------------

    @Test
    void awarenessIsRelayedSnapshottedAndRemovedOnCloseAndOnAbort() throws Exception {
        String doc = newDoc();
        WsClient alice = join(doc, "alice");
        WsClient bob = join(doc, "bob");

        alice.send("{\"type\":\"awareness\",\"state\":{\"user\":{\"name\":\"Ann\"},\"cursor\":3}}");
        JsonObject seen = bob.nextStrict("awareness");
        assertEquals(Json.createObjectBuilder().add("type", "awareness").add("clientID", "alice")
                .add("state", Json.createObjectBuilder().add("user", Json.createObjectBuilder().add("name", "Ann"))
                        .add("cursor", 3)).build(), seen);
        alice.roundTrip();
        assertTrue(alice.drain().isEmpty(), "the sender does not get its own awareness back");

        WsClient dave = join(doc, "dave");
        dave.send("{\"type\":\"awareness\",\"state\":{\"user\":{\"name\":\"Dave\"}}}");
        bob.nextStrict("awareness");
        alice.nextStrict("awareness");

        // a newcomer gets the current states, then synced
        WsClient carol = join(doc, "carol");
        carol.send("{\"type\":\"sync\",\"version\":0}");
        List<String> snapshot = new ArrayList<>();
        snapshot.add(carol.nextStrict("awareness").getString("clientID"));
        snapshot.add(carol.nextStrict("awareness").getString("clientID"));
        assertEquals(Set.of("alice", "dave"), Set.copyOf(snapshot));
        carol.nextStrict("synced");

        // alice closes cleanly: everyone else learns her state is gone
        alice.closeNormally();
        for (WsClient c : List.of(bob, carol, dave)) {
            assertEquals(Json.createObjectBuilder().add("type", "awareness").add("clientID", "alice")
                    .add("state", JsonValue.NULL).build(), c.nextStrict("awareness"));
        }

        // dave's connection just drops (no close frame)
        dave.abort();
        for (WsClient c : List.of(bob, carol)) {
            JsonObject removal = c.nextStrict("awareness");
            assertEquals("dave", removal.getString("clientID"));
            assertEquals(JsonValue.NULL, removal.get("state"));
        }

        // an explicit null clears a state too
        bob.send("{\"type\":\"awareness\",\"state\":{\"n\":1}}");
        carol.nextStrict("awareness");
        bob.send("{\"type\":\"awareness\",\"state\":null}");
        assertEquals(JsonValue.NULL, carol.nextStrict("awareness").get("state"));
        WsClient erin = join(doc, "erin");
        erin.send("{\"type\":\"sync\"}");
        assertEquals("synced", erin.next().getString("type"), "no awareness states left to send");
    }

    // ---- application messages -----------------------------------------------------------------------------

    @Test
    void applicationMessagesReachOthersOrOneClient() throws Exception {
        String doc = newDoc();
        WsClient alice = join(doc, "alice");
        WsClient bob = join(doc, "bob");
        WsClient carol = join(doc, "carol");
        alice.send("{\"type\":\"message\",\"messageType\":\"chat\",\"payload\":{\"text\":\"hi\"}}");
        JsonObject expected = Json.createObjectBuilder().add("type", "message")
                .add("from", Json.createObjectBuilder().add("type", "client").add("id", "alice"))
                .add("messageType", "chat").add("payload", Json.createObjectBuilder().add("text", "hi")).build();
        assertEquals(expected, bob.nextStrict("message"));
        assertEquals(expected, carol.nextStrict("message"));
        alice.send("{\"type\":\"message\",\"payload\":42,\"to\":{\"id\":\"carol\"}}");
        assertEquals(42, carol.nextStrict("message").getInt("payload"));
        bob.roundTrip();
        alice.roundTrip();
        bob.assertNothingPending();
        alice.assertNothingPending();
    }

    // ---- bad input ----------------------------------------------------------------------------------------

    @Test
    void everyBadInputIsAnsweredWithAnErrorAndTheConnectionStaysUsable() throws Exception {
        String doc = newDoc();
        WsClient alice = join(doc, "alice");
        WsClient bob = join(doc, "bob");
        String s = step(1);
        List<List<String>> cases = List.of(
                List.of("not json", "invalid-json"),
                List.of("{\"type\":", "invalid-json"),
                List.of("[1,2]", "not-an-object"),
                List.of("\"steps\"", "not-an-object"),
                List.of("{}", "missing-type"),
                List.of("{\"type\":7}", "invalid-field"),
                List.of("{\"type\":\"nope\"}", "unknown-type"),
                List.of("{\"type\":\"sync\",\"documentId\":\"another-doc\"}", "document-mismatch"),
                List.of("{\"type\":\"steps\",\"documentId\":\"another-doc\",\"version\":0,\"steps\":[" + s + "]}",
                        "document-mismatch"),
                List.of("{\"type\":\"awareness\",\"documentId\":\"another-doc\",\"state\":{}}", "document-mismatch"),
                List.of("{\"type\":\"sync\",\"documentId\":5}", "invalid-field"),
                List.of("{\"type\":\"steps\",\"version\":\"0\",\"steps\":[" + s + "]}", "invalid-version"),
                List.of("{\"type\":\"steps\",\"version\":0.5,\"steps\":[" + s + "]}", "invalid-version"),
                List.of("{\"type\":\"steps\",\"version\":-1,\"steps\":[" + s + "]}", "invalid-version"),
                List.of("{\"type\":\"steps\",\"version\":1,\"steps\":[" + s + "]}", "invalid-version"),
                List.of("{\"type\":\"steps\",\"version\":0,\"steps\":[]}", "invalid-steps"),
                List.of("{\"type\":\"steps\",\"version\":0,\"steps\":{}}", "invalid-steps"),
                List.of("{\"type\":\"steps\",\"version\":0,\"steps\":[\"x\"]}", "invalid-steps"),
                List.of("{\"type\":\"steps\",\"version\":0,\"steps\":[{\"from\":1}]}", "invalid-steps"),
                List.of("{\"type\":\"steps\",\"version\":0}", "missing-field"),
                List.of("{\"type\":\"update\"}", "missing-field"),
                List.of("{\"type\":\"update\",\"update\":12}", "invalid-field"),
                List.of("{\"type\":\"update\",\"update\":\"***\"}", "invalid-field"),
                List.of("{\"type\":\"update\",\"update\":\"AAEC\"}", "invalid-update"),
                List.of("{\"type\":\"sync\",\"stateVector\":\"@@\"}", "invalid-field"),
                List.of("{\"type\":\"sync\",\"stateVector\":\"/w==\"}", "invalid-state-vector"),
                List.of("{\"type\":\"awareness\"}", "missing-field"));
        for (List<String> c : cases) {
            alice.send(c.get(0));
            JsonObject error = alice.nextStrict("error");
            assertEquals(Set.of("type", "code", "message"), error.keySet(), () -> "for " + c.get(0));
            assertEquals(c.get(1), error.getString("code"), () -> "for " + c.get(0));
            assertFalse(error.getString("message").isBlank());
        }
        assertTrue(alice.isOpen());

        // still usable: a good submission goes through, and it is the first thing bob ever hears
        alice.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + s + "]}");
        assertEquals(0, alice.nextStrict("steps").getInt("version"));
        JsonObject first = bob.nextStrict("steps");
        assertEquals(json("[\"alice\"]"), first.getJsonArray("clientIDs"));
        alice.send("{\"type\":\"sync\",\"version\":0}");
        assertEquals(json("[" + s + "]"), alice.nextStrict("steps").getJsonArray("steps"),
                "nothing of the bad messages was stored");
        alice.nextStrict("synced");
        bob.assertNothingPending();
    }

    @Test
    void aMessageOverTheSizeLimitClosesWith1009() throws Exception {
        String doc = newDoc();
        WsClient watcher = join(doc, "watcher");

        // just under the limit is fine
        WsClient fits = join(doc, "fits");
        String payload = "x".repeat(TestServer.MAX_MESSAGE_BYTES - 100);
        fits.send("{\"type\":\"message\",\"payload\":\"" + payload + "\"}");
        assertEquals(payload, watcher.nextStrict("message").getString("payload"));
        fits.roundTrip();

        WsClient big = join(doc, "big");
        big.send("{\"type\":\"message\",\"payload\":\"" + "y".repeat(TestServer.MAX_MESSAGE_BYTES) + "\"}");
        assertEquals(1009, big.awaitClose().code());

        WsClient fragmented = join(doc, "fragmented");
        String part = "z".repeat(TestServer.MAX_MESSAGE_BYTES / 3);
        fragmented.sendFragmented("{\"type\":\"message\",\"payload\":\"", part, part, part, part, "\"}");
        assertEquals(1009, fragmented.awaitClose().code());

        // under the limit in characters, over it in UTF-8 bytes
        WsClient wide = join(doc, "wide");
        wide.send("{\"type\":\"message\",\"payload\":\"" + "€".repeat(TestServer.MAX_MESSAGE_BYTES / 2) + "\"}");
        assertEquals(1009, wide.awaitClose().code());

        // none of them reached the room, and the others are unaffected
        fits.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(1) + "]}");
        assertEquals("fits", watcher.next("steps").getJsonArray("clientIDs").getString(0));
        watcher.drain().forEach(m -> assertFalse("message".equals(m.getString("type")), "relayed: " + m));
        Await.until("closed connections to leave the room", () -> {
            JsonObject d = (JsonObject) server.admin("/admin/documents/" + doc).body();
            return d.getInt("connections") == 2;
        });
    }

    // ---- admin and health ---------------------------------------------------------------------------------

    @Test
    void adminRequiresTheBearerToken() throws Exception {
        for (String path : List.of("/admin/documents", "/admin/documents/anything")) {
            TestServer.Reply anonymous = server.get(path, null);
            assertEquals(401, anonymous.status(), path);
            assertEquals("unauthorized", ((JsonObject) anonymous.body()).getString("error"), anonymous::toString);
            assertEquals("Bearer", anonymous.raw().headers().firstValue("www-authenticate").orElse(null));
            assertEquals(401, server.get(path, "Bearer wrong").status(), path);
            assertEquals(401, server.get(path, "Bearer secretX").status(), path);
            assertEquals(401, server.get(path, "Basic c2VjcmV0").status(), path);
            assertEquals(401, server.get(path, "secret").status(), path);
        }
        TestServer.Reply ok = server.admin("/admin/documents");
        assertEquals(200, ok.status(), ok::toString);
        assertInstanceOf(JsonArray.class, ok.body(), ok::toString);
    }

    @Test
    void adminCountsFollowConnectionsAndDropWhenTheyCloseOrDrop() throws Exception {
        String doc = newDoc();
        WsClient alice = join(doc, "alice");
        WsClient bob = join(doc, "bob");
        WsClient carol = join(doc, "carol");
        alice.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(1) + "," + step(2) + "]}");
        alice.nextStrict("steps");

        JsonObject summary = findDocument(doc);
        assertNotNull(summary, "listed while it has connections");
        assertEquals(3, summary.getInt("connections"));
        assertEquals("steps", summary.getString("kind"));
        assertEquals(2, summary.getInt("version"));
        assertEquals(0, summary.getInt("updates"));

        TestServer.Reply detail = server.admin("/admin/documents/" + doc);
        assertEquals(200, detail.status());
        JsonObject d = (JsonObject) detail.body();
        assertEquals(doc, d.getString("documentId"));
        assertEquals(3, d.getInt("connections"));
        assertEquals(Set.of("alice", "bob", "carol"), Set.copyOf(d.getJsonArray("clients").getValuesAs(JsonObject.class)
                .stream().map(c -> c.getString("clientID")).toList()));
        JsonObject client = d.getJsonArray("clients").getJsonObject(0);
        assertEquals("json", client.getString("protocol"));
        assertTrue(client.isNull("user"), "an open server knows no users: " + client);
        assertFalse(client.getBoolean("readOnly"));
        assertEquals("127.0.0.1", client.getString("address"));
        assertTrue(java.time.Instant.parse(client.getString("connectedAt")).isBefore(java.time.Instant.now().plusSeconds(1)));
        assertEquals(2, d.getInt("version"));
        assertEquals("steps", d.getString("kind"));
        assertEquals(0, d.getInt("updates"));

        alice.closeNormally();
        Await.until("the count to drop after a close", () -> connectionsOf(doc) == 2);
        bob.abort();
        Await.until("the count to drop after an abort", () -> connectionsOf(doc) == 1);
        assertEquals(List.of("carol"), ((JsonObject) server.admin("/admin/documents/" + doc).body())
                .getJsonArray("clients").getValuesAs(JsonObject.class).stream().map(c -> c.getString("clientID")).toList());
        carol.abort();
        Await.until("the document to leave the list", () -> findDocument(doc) == null);
        // still found without connections: the stored figures; 404 only for a document never written
        TestServer.Reply stored = server.admin("/admin/documents/" + doc);
        assertEquals(200, stored.status());
        JsonObject storedBody = (JsonObject) stored.body();
        assertEquals(0, storedBody.getInt("connections"));
        assertEquals(List.of(), storedBody.getJsonArray("clients"));
        assertEquals(2, storedBody.getInt("version"));
        assertEquals("steps", storedBody.getString("kind"));
        assertEquals(404, server.admin("/admin/documents/" + newDoc()).status());
    }

    private static JsonObject findDocument(String doc) throws Exception {
        for (JsonValue v : (JsonArray) server.admin("/admin/documents").body()) {
            if (doc.equals(v.asJsonObject().getString("documentId"))) {
                return v.asJsonObject();
            }
        }
        return null;
    }

    private static int connectionsOf(String doc) throws Exception {
        JsonObject d = findDocument(doc);
        return d == null ? 0 : d.getInt("connections");
    }

    @Test
    void healthReportsStatusDocumentsConnectionsAndUptime() throws Exception {
        TestServer.Reply reply = server.get("/health", null);
        assertEquals(200, reply.status());
        assertTrue(reply.raw().headers().firstValue("content-type").orElse("").startsWith("application/json"));
        JsonObject h = (JsonObject) reply.body();
        assertEquals("UP", h.getString("status"));
        assertTrue(h.getInt("documents") >= 0);
        assertTrue(h.getInt("connections") >= 0);
        assertTrue(h.getJsonNumber("uptimeSeconds").longValue() >= 0);

        String doc = newDoc();
        int before = connectionsNow();
        WsClient a = join(doc, "a");
        WsClient b = join(doc, "b");
        Await.until("health to count the new connections", () -> connectionsNow() >= before + 2);
        JsonObject during = (JsonObject) server.get("/health", null).body();
        assertTrue(during.getInt("documents") >= 1, "the room is in memory");
        a.abort();
        b.closeNormally();
        Await.until("health to drop them again", () -> connectionsNow() <= before);
    }

    private static int connectionsNow() throws Exception {
        return ((JsonObject) server.get("/health", null).body()).getInt("connections");
    }

    @Test
    void idleRoomsAreUnloadedAndComeBackFromTheDatabase() throws Exception {
        String doc = newDoc();
        WsClient a = join(doc, "a");
        a.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(1) + "]}");
        a.nextStrict("steps");
        a.closeNormally();
        // COLLAB_ROOM_IDLE_UNLOAD_MS is 200 here; the room count in /health drops once it is gone
        Await.value("the document to be unloaded", Duration.ofSeconds(10),
                () -> ((JsonObject) server.get("/health", null).body()).getInt("documents"), n -> n == 0);
        WsClient b = connect(doc, "b");
        assertEquals(1, b.nextStrict("connected").getInt("version"));
    }
}
