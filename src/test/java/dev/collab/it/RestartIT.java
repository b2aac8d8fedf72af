package dev.collab.it;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import dev.collab.testing.YTestUpdates;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** History outlives the process: stop the server, start a new one on the same database file. */
class RestartIT {
    @TempDir
    Path dir;

    private static final String STEP_A = "{\"stepType\":\"replace\",\"from\":1,\"to\":1,\"slice\":{\"content\":"
            + "[{\"type\":\"text\",\"text\":\"a\"}]}}";
    private static final String STEP_B = "{\"stepType\":\"replace\",\"from\":2,\"to\":2,\"slice\":{\"content\":"
            + "[{\"type\":\"text\",\"text\":\"b\"}]}}";

    @Test
    void aRestartedServerServesTheSameHistory() throws Exception {
        Path db = dir.resolve("restart.db");
        byte[] update = YTestUpdates.insertText(42, "t", "durable");
        String doc = "restart-doc";
        String yjsDoc = "restart-yjs-doc";      // a document holds steps or Yjs updates, never both

        try (TestServer first = TestServer.start(db); WsClient alice = first.connect(doc, "alice");
             WsClient bob = first.connect(doc, "bob"); WsClient yjsWriter = first.connect(yjsDoc, "yw")) {
            alice.nextStrict("connected");
            bob.nextStrict("connected");
            yjsWriter.nextStrict("connected");
            alice.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + STEP_A + "]}");
            alice.nextStrict("steps");
            bob.send("{\"type\":\"steps\",\"version\":1,\"steps\":[" + STEP_B + "]}");
            bob.next("steps");
            bob.nextStrict("steps");
            yjsWriter.send("{\"type\":\"update\",\"update\":\"" + Base64.getEncoder().encodeToString(update) + "\"}");
            yjsWriter.next("ack");
            // the server goes away with clients still connected: they are told to come back (1012 service restart)
            first.close();
            assertEquals(1012, alice.awaitClose().code());
            assertEquals(1012, bob.awaitClose().code());
            assertEquals(1012, yjsWriter.awaitClose().code());
        }

        try (TestServer second = TestServer.start(db); WsClient carol = second.connect(doc, "carol");
             WsClient dave = second.connect(yjsDoc, "dave")) {
            dave.nextStrict("connected");
            dave.send("{\"type\":\"sync\"}");
            assertEquals(Base64.getEncoder().encodeToString(update), dave.nextStrict("update").getString("update"));
            dave.nextStrict("synced");
            assertEquals(2, carol.nextStrict("connected").getInt("version"));
            carol.send("{\"type\":\"sync\",\"documentId\":\"" + doc + "\",\"version\":0}");
            assertEquals(Json.createObjectBuilder().add("type", "steps").add("version", 0)
                    .add("steps", Json.createArrayBuilder()
                            .add(Json.createReader(new java.io.StringReader(STEP_A)).readObject())
                            .add(Json.createReader(new java.io.StringReader(STEP_B)).readObject()))
                    .add("clientIDs", Json.createArrayBuilder().add("alice").add("bob")).build(),
                    carol.nextStrict("steps"));
            assertEquals(2, carol.nextStrict("synced").getInt("version"));

            // from version 1 only the second step comes; the authority continues at version 2
            carol.send("{\"type\":\"sync\",\"version\":1}");
            JsonObject rest = carol.nextStrict("steps");
            assertEquals(1, rest.getInt("version"));
            assertEquals(1, rest.getJsonArray("steps").size());
            carol.nextStrict("synced");
            carol.send("{\"type\":\"steps\",\"version\":1,\"steps\":[" + STEP_A + "]}");
            assertEquals(2, carol.nextStrict("conflict").getInt("version"));
            carol.send("{\"type\":\"steps\",\"version\":2,\"steps\":[" + STEP_A + "]}");
            assertEquals(2, carol.nextStrict("steps").getInt("version"));
        }
    }
}
