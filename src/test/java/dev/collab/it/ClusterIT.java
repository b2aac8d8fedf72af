package dev.collab.it;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import dev.collab.testing.Await;
import dev.collab.testing.LocalServers;
import dev.collab.testing.YTestUpdates;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes in one JVM on a real PostgreSQL and a real Redis (Debian's servers, started by the test on loopback):
 * what one node's clients commit reaches the other's, a contested step version has one winner and a conflict,
 * awareness crosses, and with Redis killed the nodes still converge by polling the store, then resume through it.
 */
class ClusterIT {
    private static final AtomicInteger DOCS = new AtomicInteger();
    @TempDir
    static Path dir;
    private static LocalServers.Postgres postgres;
    private static LocalServers.Redis redis;
    private static String url;
    private static TestServer nodeA;
    private static TestServer nodeB;
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeAll
    static void startCluster() {
        postgres = LocalServers.Postgres.start();
        redis = LocalServers.Redis.start();
        url = postgres.newDatabase("cluster");
        nodeA = node("node-a");
        nodeB = node("node-b");
    }

    private static TestServer node(String id) {
        Map<String, String> env = new HashMap<>();
        env.put("COLLAB_STORE", "postgres");
        env.put("COLLAB_POSTGRES_URL", url);
        env.put("COLLAB_POSTGRES_USER", "collab");
        env.put("COLLAB_BUS", "redis");
        env.put("COLLAB_REDIS_URL", redis.url());
        env.put("COLLAB_NODE_ID", id);
        env.put("COLLAB_ROOM_IDLE_UNLOAD_MS", "30000");
        return TestServer.start(dir.resolve(id + ".db"), env);
    }

    @AfterAll
    static void stopCluster() {
        for (AutoCloseable c : new AutoCloseable[] {nodeA, nodeB, redis, postgres}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // stopping anyway
            }
        }
    }

    @AfterEach
    void closeClients() {
        clients.forEach(WsClient::close);
    }

    private WsClient join(TestServer node, String doc, String clientId) throws Exception {
        WsClient c = node.connect(doc, clientId);
        clients.add(c);
        c.nextStrict("connected");
        return c;
    }

    private static String step(int n) {
        return "{\"stepType\":\"replace\",\"from\":" + n + ",\"to\":" + n
                + ",\"slice\":{\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}}";
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static List<Integer> storedVersions(String doc) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "collab", "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version FROM pm_steps WHERE document_id = '" + doc
                     + "' ORDER BY version")) {
            List<Integer> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
            return out;
        }
    }

    @Test
    void updatesAndStepsCommittedOnOneNodeReachTheOtherAndAContestedVersionHasOneWinner() throws Exception {
        String doc = "cluster-" + DOCS.incrementAndGet();
        WsClient alice = join(nodeA, doc, "alice");
        WsClient bob = join(nodeB, doc, "bob");

        alice.send("{\"type\":\"steps\",\"version\":0,\"steps\":[" + step(1) + "," + step(2) + "]}");
        assertEquals(0, alice.nextStrict("steps").getInt("version"));
        JsonObject heard = bob.next("steps");
        assertEquals(0, heard.getInt("version"));
        assertEquals("alice", heard.getJsonArray("clientIDs").getString(1));

        // both at version 2 at once, on different nodes: one wins, the other learns the winner's steps and conflicts
        alice.send("{\"type\":\"steps\",\"version\":2,\"steps\":[" + step(3) + "]}");
        bob.send("{\"type\":\"steps\",\"version\":2,\"steps\":[" + step(4) + "]}");
        JsonObject aliceSaw = alice.next("steps");
        JsonObject bobSaw = bob.next("steps");
        assertEquals(2, aliceSaw.getInt("version"));
        assertEquals(aliceSaw.getJsonArray("clientIDs"), bobSaw.getJsonArray("clientIDs"), "one winner for both");
        String winner = aliceSaw.getJsonArray("clientIDs").getString(0);
        WsClient loser = winner.equals("alice") ? bob : alice;
        assertEquals(3, loser.next("conflict").getInt("version"));
        assertEquals(List.of(0, 1, 2), storedVersions(doc), "dense, no second copy");

        // a late joiner on the other node catches up with every version
        WsClient carol = join(nodeA, doc, "carol");
        carol.send("{\"type\":\"sync\",\"version\":0}");
        assertEquals(3, carol.next("steps").getJsonArray("steps").size());
        assertEquals(3, carol.next("synced").getInt("version"));

        // Yjs across nodes (another document: one id holds one kind), and a late joiner gets the merged state
        String yjsDoc = "cluster-" + DOCS.incrementAndGet();
        WsClient dora = join(nodeA, yjsDoc, "dora");
        WsClient erik = join(nodeB, yjsDoc, "erik");
        String update = b64(YTestUpdates.insertText(7, "t", "hello"));
        erik.send("{\"type\":\"update\",\"update\":\"" + update + "\",\"id\":\"u1\"}");
        erik.next("ack");
        assertEquals(update, dora.next("update").getString("update"));
        WsClient finn = join(nodeA, yjsDoc, "finn");
        finn.send("{\"type\":\"sync\"}");
        byte[] state = Base64.getDecoder().decode(finn.next("update").getString("update"));
        assertEquals(Map.of(7L, 5L), dev.collab.yjs.YUpdates.decodeStateVector(
                dev.collab.yjs.YUpdates.stateVector(state)));
        finn.next("synced");
    }

    @Test
    void awarenessCrossesNodesAndGoesWithItsConnection() throws Exception {
        String doc = "cluster-" + DOCS.incrementAndGet();
        WsClient alice = join(nodeA, doc, "alice");
        WsClient bob = join(nodeB, doc, "bob");
        alice.send("{\"type\":\"awareness\",\"state\":{\"cursor\":3}}");
        JsonObject seen = bob.next("awareness");
        assertEquals("alice", seen.getString("clientID"));
        assertEquals(3, seen.getJsonObject("state").getInt("cursor"));
        alice.close();
        JsonObject gone = bob.next("awareness");
        assertEquals("alice", gone.getString("clientID"));
        assertTrue(gone.isNull("state"), "removed when its connection closed: " + gone);
    }

    @Test
    void withRedisKilledTheNodesStillConvergeFromTheStoreAndResumeAfterItsRestart() throws Exception {
        String doc = "cluster-" + DOCS.incrementAndGet();
        WsClient alice = join(nodeA, doc, "alice");
        WsClient bob = join(nodeB, doc, "bob");
        bob.send("{\"type\":\"update\",\"update\":\"" + b64(YTestUpdates.insertText(9, "t", "a")) + "\"}");
        bob.next("ack");
        alice.next("update");

        redis.kill();
        int acknowledged = 0;
        for (int i = 0; i < 20; i++) {
            bob.send("{\"type\":\"update\",\"update\":\"" + b64(YTestUpdates.appendAfter(9, i + 1, 9, i, "b"))
                    + "\"}");
            bob.next("ack");
            acknowledged++;
        }
        // the head check finds what the bus could not carry
        int received = 0;
        while (received < acknowledged) {
            alice.next("update", Duration.ofSeconds(30));
            received++;
        }
        redis.restart();
        Await.until("node A hears node B through Redis again", Duration.ofSeconds(60), () -> {
            bob.send("{\"type\":\"awareness\",\"state\":{\"probe\":true}}");
            try {
                return alice.next("awareness", Duration.ofSeconds(1)) != null;
            } catch (AssertionError e) {
                return false;
            }
        });
        String last = b64(YTestUpdates.appendAfter(9, 21, 9, 20, "c"));
        bob.send("{\"type\":\"update\",\"update\":\"" + last + "\"}");
        bob.next("ack");
        assertEquals(last, alice.next("update").getString("update"));
    }
}
