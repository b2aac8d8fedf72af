package dev.collab.it;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.collab.testing.Await;
import dev.collab.testing.YTestUpdates;
import dev.collab.webhook.Receiver;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend integration end to end on the real server: webhooks to two real receivers (one that never
 * answers), access tokens on the document API.
 */
class BackendIT {
    private static final String SECRET = "backend-integration-test-secret-0123456789";

    @TempDir
    static Path dir;
    static TestServer server;
    static Receiver recorder;
    static Receiver hanging;

    @BeforeAll
    static void start() throws Exception {
        recorder = new Receiver();
        hanging = new Receiver().hanging();
        server = TestServer.start(dir.resolve("backend.db"), Map.of(
                "COLLAB_AUTH_SECRET", SECRET,
                "COLLAB_WEBHOOK_URL", hanging.url() + "," + recorder.url(),
                "COLLAB_WEBHOOK_SECRET", "hook-secret",
                "COLLAB_WEBHOOK_DEBOUNCE_MS", "100"));
    }

    @AfterAll
    static void stop() {
        server.close();
        recorder.close();
        hanging.close();
    }

    private static String token(String user, Object doc, String scope) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject(user)
                .claim("doc", doc).claim("scope", scope).expirationTime(Date.from(Instant.now().plusSeconds(600)))
                .build());
        jwt.sign(new MACSigner(SECRET));
        return jwt.serialize();
    }

    private static WsClient connect(String doc, String clientId, String token) throws Exception {
        return WsClient.connect(server.http, URI.create(WsClient.jsonUri(server.port(), doc, clientId)
                + "&token=" + token));
    }

    private static JsonObject json(String body) {
        return Json.createReader(new StringReader(body)).readObject();
    }

    @Test
    void webhooksReportTheLifecycleWhileAHangingReceiverNeverSlowsEditing() throws Exception {
        String doc = "wh-doc";
        try (WsClient alice = connect(doc, "alice-1", token("alice", doc, "read-write"))) {
            alice.nextStrict("connected");
            JsonObject opened = json(recorder.next("connection.opened").body());
            assertEquals(doc, opened.getString("documentId"));
            assertEquals("alice", opened.getString("userId"));
            assertEquals("json", opened.getString("protocol"));

            // every edit is acknowledged although one receiver holds every request it gets open
            for (int i = 0; i < 200; i++) {
                alice.send("{\"type\":\"update\",\"id\":" + i + ",\"update\":\"" + Base64.getEncoder()
                        .encodeToString(YTestUpdates.insertText(1000 + i, "t", "x")) + "\"}");
                assertEquals(i, alice.next("ack").getInt("id"));
            }
            assertTrue(hanging.receivedSoFar() >= 1, "the hanging receiver was sent events too");
            int lastSeq = 0;
            while (lastSeq < 200) {       // debounced: a few events (in any order), one covers update 200
                JsonObject changed = json(recorder.next("document.changed").body());
                assertEquals(List.of("alice"), changed.getJsonArray("users").getValuesAs(JsonString.class).stream()
                        .map(JsonString::getString).toList());
                lastSeq = Math.max(lastSeq, changed.getInt("updateSeq"));
            }
        }
        assertEquals("alice", json(recorder.next("connection.closed").body()).getString("userId"));

        assertEquals(204, server.request("DELETE", "/documents/" + doc, "Bearer " + TestServer.ADMIN_TOKEN, null)
                .status());
        Receiver.Request deleted = recorder.next("document.deleted");
        assertEquals(doc, json(deleted.body()).getString("documentId"));
        assertTrue(deleted.header("X-Collab-Signature-256").startsWith("sha256="));
        Await.until("deliveries show in the metrics", () -> {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                    "collab_webhook_deliveries_total\\{result=\"delivered\"} (\\S+)")
                    .matcher(server.get("/observe/metrics", null).raw().body());
            return m.find() && Double.parseDouble(m.group(1)) >= 4;   // opened, changed, closed, deleted
        });
    }

    @Test
    void accessTokensReadTheirDocumentsAndOnlyReadWriteTokensChangeThem() throws Exception {
        String admin = "Bearer " + TestServer.ADMIN_TOKEN;
        for (String doc : List.of("tok-a1", "tok-a2", "tok-b1")) {
            assertEquals(204, server.request("POST", "/documents/" + doc + "/updates", admin,
                    YTestUpdates.insertText(7, "t", doc)).status());
        }
        String reader = "Bearer " + token("rita", List.of("tok-a*", "tok-b1"), "read-only");
        assertEquals(200, server.get("/documents/tok-a1", reader).status());
        assertEquals(403, server.request("POST", "/documents/tok-a1/updates", reader,
                YTestUpdates.insertText(8, "t", "no")).status());
        assertEquals(403, server.request("DELETE", "/documents/tok-a1", reader, null).status());

        String writer = "Bearer " + token("wes", "tok-a2", "read-write");
        assertEquals(403, server.get("/documents/tok-a1", writer).status(), "a token for another document");
        assertEquals(204, server.request("POST", "/documents/tok-a2/updates", writer,
                YTestUpdates.insertText(9, "t", "yes")).status());
        assertEquals(204, server.request("DELETE", "/documents/tok-a2", writer, null).status());

        JsonObject listed = server.get("/documents?prefix=tok-&limit=1", reader).body().asJsonObject();
        assertEquals("tok-a1", listed.getJsonArray("documents").getJsonObject(0).getString("documentId"));
        JsonObject rest = server.get("/documents?prefix=tok-&after=" + listed.getString("next"), reader).body()
                .asJsonObject();
        assertEquals(List.of("tok-b1"), rest.getJsonArray("documents").stream()
                .map(v -> v.asJsonObject().getString("documentId")).toList());
        String narrow = "Bearer " + token("nina", "tok-b1", "read-only");
        assertEquals(List.of("tok-b1"), server.get("/documents", narrow).body().asJsonObject()
                .getJsonArray("documents").stream().map(v -> v.asJsonObject().getString("documentId")).toList());
        assertEquals(401, server.get("/documents", "Bearer forged.token.here").status());
    }
}
