package dev.collab.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.testing.TestServer;
import dev.collab.testing.WsClient;
import dev.collab.protocol.hocuspocus.HocuspocusClientCodec;
import dev.collab.protocol.hocuspocus.HocuspocusCodec;
import dev.collab.protocol.ywebsocket.YWebsocketCodec;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.Lib0Writer;
import dev.collab.yjs.YUpdates;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failing disk write, simulated with a real SQLite failure: a trigger on the server's own database file makes
 * every insert into {@code yjs_updates} and {@code pm_steps} abort. Each protocol's write is then reported to its
 * sender (JSON {@code storage-failure}, Hocuspocus SyncStatus(false), y-websocket close 1011), is neither
 * acknowledged nor relayed nor stored, reads and syncs keep working, and once the trigger is gone writes work again.
 */
class StorageFailureIT {
    private static final String DOC = "disk-fail";
    /** Steps go to a document of their own: a document holds Yjs updates or steps, never both. */
    private static final String STEPS_DOC = "disk-fail-steps";
    private static final String ADMIN = "storage-test-admin";

    @TempDir
    Path dir;
    private Path db;
    private TestServer server;
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        db = dir.resolve("collab.db");
        Map<String, String> env = new HashMap<>();
        env.put("COLLAB_DB_PATH", db.toString());
        env.put("COLLAB_ADMIN_TOKEN", ADMIN);
        env.put("COLLAB_WEB_DIR", dir.resolve("no-web").toString());
        server = TestServer.startWith(env);
    }

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        if (server != null) {
            server.close();
        }
    }

    private WsClient connect(String name, String pathAndQuery) throws Exception {
        WsClient c = server.connectTo(name, pathAndQuery);
        clients.add(c);
        return c;
    }

    private WsClient json(String clientId) throws Exception {
        return json(DOC, clientId);
    }

    private WsClient json(String documentId, String clientId) throws Exception {
        WsClient c = connect("json " + clientId, "/ws/fabric?documentId=" + documentId + "&clientID=" + clientId);
        assertEquals("connected", type(c.nextMessage()));
        return c;
    }

    private static JsonObject parse(Object message) {
        assertInstanceOf(String.class, message, "a JSON text message");
        try (JsonReader r = Json.createReader(new StringReader((String) message))) {
            return r.readObject();
        }
    }

    private static String type(Object message) {
        return message instanceof String ? parse(message).getString("type") : "binary";
    }

    private static boolean isType(Object message, String type) {
        return message instanceof String && type.equals(type(message));
    }

    private static String updateMessage(byte[] update, int id) {
        return "{\"type\":\"update\",\"update\":\"" + Base64.getEncoder().encodeToString(update) + "\",\"id\":" + id + "}";
    }

    private static String stepsMessage(int version, String text) {
        return "{\"type\":\"steps\",\"version\":" + version + ",\"steps\":[{\"stepType\":\"replace\",\"from\":1,"
                + "\"to\":1,\"slice\":{\"content\":[{\"type\":\"text\",\"text\":\"" + text + "\"}]}}]}";
    }

    /** Messages {@code to} received before the barrier message {@code from} sent after everything else. */
    private static List<Object> untilBarrier(WsClient from, WsClient to, String tag) throws Exception {
        from.sendText("{\"type\":\"message\",\"payload\":\"" + tag + "\"}");
        List<Object> got = to.until(m -> isType(m, "message") && parse(m).getString("payload").equals(tag),
                "barrier " + tag);
        return got.subList(0, got.size() - 1);
    }

    private Connection sqlite() throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout=20000");
        }
        return c;
    }

    private void failWrites(boolean fail) throws SQLException {
        try (Connection c = sqlite(); Statement st = c.createStatement()) {
            if (fail) {
                st.execute("CREATE TRIGGER fail_updates BEFORE INSERT ON yjs_updates "
                        + "BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END");
                st.execute("CREATE TRIGGER fail_steps BEFORE INSERT ON pm_steps "
                        + "BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END");
            } else {
                st.execute("DROP TRIGGER fail_updates");
                st.execute("DROP TRIGGER fail_steps");
            }
        }
    }

    private int rows(String table) throws SQLException {
        try (Connection c = sqlite();
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table + " WHERE document_id = ?")) {
            ps.setString(1, table.equals("pm_steps") ? STEPS_DOC : DOC);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private byte[] storedState() throws Exception {
        HttpResponse<byte[]> res = server.http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/documents/" + DOC + "/yjs"))
                .header("Authorization", "Bearer " + ADMIN).timeout(Duration.ofSeconds(15)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, res.statusCode());
        return res.body();
    }

    private static byte[] hocuspocusAuth(String name) {
        return new Lib0Writer().writeVarString(name).writeVarUint(HocuspocusCodec.AUTH)
                .writeVarUint(HocuspocusCodec.AUTH_TOKEN).writeVarString("").writeVarString("4.8.0").toByteArray();
    }

    private static HocuspocusCodec.Outbound hp(Object message) {
        assertInstanceOf(byte[].class, message, "a binary Hocuspocus frame");
        return HocuspocusClientCodec.decodeServerFrame((byte[]) message);
    }

    @Test
    void failedWritesAreReportedNotAcknowledgedNotRelayedAndReadsKeepWorking() throws Exception {
        WsClient writer = json("writer");
        WsClient reader = json("reader");
        WsClient stepsWriter = json(STEPS_DOC, "steps-writer");
        WsClient stepsReader = json(STEPS_DOC, "steps-reader");
        byte[] first = YTestUpdates.insertText(1, "t", "before");
        writer.sendText(updateMessage(first, 1));
        assertEquals(1, parse(writer.until(m -> isType(m, "ack"), "ack 1").getLast()).getInt("id"));
        assertTrue(isType(reader.until(m -> isType(m, "update"), "relay of update 1").getLast(), "update"));
        stepsWriter.sendText(stepsMessage(0, "a"));
        assertEquals(0, parse(stepsWriter.until(m -> isType(m, "steps"), "steps echo").getLast()).getInt("version"));
        stepsReader.until(m -> isType(m, "steps"), "steps relay");
        assertEquals(1, rows("yjs_updates"));
        assertEquals(1, rows("pm_steps"));

        failWrites(true);

        // JSON update: an error for the sender, no ack, no relay, no row
        writer.sendText(updateMessage(YTestUpdates.insertText(2, "t", "lost"), 2));
        List<Object> answer = writer.until(m -> isType(m, "error"), "storage-failure error");
        JsonObject error = parse(answer.getLast());
        assertEquals("storage-failure", error.getString("code"), error.toString());
        assertFalse(answer.stream().anyMatch(m -> isType(m, "ack")), "no ack for the failed write: " + answer);
        // JSON steps: the same, and the version does not move
        stepsWriter.sendText(stepsMessage(1, "b"));
        List<Object> stepsAnswer = stepsWriter.until(m -> isType(m, "error"), "steps storage-failure error");
        assertEquals("storage-failure", parse(stepsAnswer.getLast()).getString("code"));
        assertFalse(stepsAnswer.stream().anyMatch(m -> isType(m, "steps")), "no steps echo: " + stepsAnswer);
        List<Object> seen = untilBarrier(writer, reader, "after-json-failures");
        assertTrue(seen.stream().noneMatch(m -> isType(m, "update")),
                "nothing of the failed writes was relayed: " + WsClient.describe(seen));
        List<Object> seenSteps = untilBarrier(stepsWriter, stepsReader, "after-json-step-failures");
        assertTrue(seenSteps.stream().noneMatch(m -> isType(m, "steps")),
                "nothing of the failed steps was relayed: " + WsClient.describe(seenSteps));

        // reads keep working: a sync answers the stored state and version
        stepsWriter.sendText("{\"type\":\"sync\",\"version\":0}");
        List<Object> stepsSync = stepsWriter.until(m -> isType(m, "synced"), "synced");
        assertEquals(1, parse(stepsSync.getLast()).getInt("version"), "the version the store holds");
        writer.sendText("{\"type\":\"sync\"}");
        List<Object> sync = writer.until(m -> isType(m, "synced"), "synced");
        byte[] synced = sync.stream().filter(m -> isType(m, "update")).map(m -> Base64.getDecoder()
                .decode(parse(m).getString("update"))).findFirst().orElseThrow();
        assertArrayEquals(YUpdates.merge(List.of(first)), YUpdates.merge(List.of(synced)));
        assertArrayEquals(YUpdates.stateVector(first), YUpdates.stateVector(storedState()));

        // y-websocket: a new client still syncs; its update fails and the connection closes with 1011
        WsClient yws = connect("y-websocket", "/yjs/" + DOC);
        yws.sendBinary(YWebsocketCodec.syncStep1(new byte[] {0}));
        List<Object> ywsSync = yws.until(m -> m instanceof byte[] b
                && YWebsocketCodec.decode(b) instanceof YWebsocketCodec.SyncStep2, "sync step 2");
        byte[] step2 = ((YWebsocketCodec.SyncStep2) YWebsocketCodec.decode((byte[]) ywsSync.getLast())).update();
        assertArrayEquals(YUpdates.stateVector(first), YUpdates.stateVector(step2), "the stored state is served");
        yws.sendBinary(YWebsocketCodec.update(YTestUpdates.insertText(3, "t", "lost too")));
        assertEquals(1011, yws.awaitClose().code(), "y-websocket has no error message: the socket closes");

        // Hocuspocus: authenticated and synced, the update answered with SyncStatus(false)
        WsClient hocus = connect("hocuspocus", "/hocuspocus");
        hocus.sendBinary(hocuspocusAuth(DOC));
        hocus.sendBinary(HocuspocusCodec.syncStep1(DOC, new byte[] {0}));
        List<Object> hpSync = hocus.until(m -> m instanceof byte[] && hp(m) instanceof HocuspocusCodec.SyncStep2,
                "hocuspocus sync step 2");
        assertTrue(hpSync.stream().anyMatch(m -> m instanceof byte[] && hp(m) instanceof HocuspocusCodec.Authenticated));
        hocus.sendBinary(HocuspocusCodec.update(DOC, YTestUpdates.insertText(4, "t", "lost as well")));
        List<Object> status = hocus.until(m -> m instanceof byte[] && hp(m) instanceof HocuspocusCodec.SyncStatus,
                "SyncStatus");
        assertFalse(((HocuspocusCodec.SyncStatus) hp(status.getLast())).applied(), "SyncStatus(false)");

        seen = untilBarrier(writer, reader, "after-binary-failures");
        assertTrue(seen.stream().noneMatch(m -> isType(m, "update")),
                "nothing of the failed binary writes was relayed: " + WsClient.describe(seen));
        assertEquals(1, rows("yjs_updates"), "no failed update was stored");
        assertEquals(1, rows("pm_steps"), "no failed step was stored");
        HttpResponse<String> health = server.http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), "the server keeps serving: " + health.body());

        failWrites(false);

        // the disk is back: every protocol writes again
        byte[] again = YTestUpdates.insertText(5, "t", "after");
        writer.sendText(updateMessage(again, 3));
        assertEquals(3, parse(writer.until(m -> isType(m, "ack"), "ack 3").getLast()).getInt("id"));
        assertTrue(reader.until(m -> isType(m, "update"), "relay of update 3").size() >= 1);
        stepsWriter.sendText(stepsMessage(1, "c"));
        assertEquals(1, parse(stepsWriter.until(m -> isType(m, "steps"), "steps echo").getLast()).getInt("version"));
        hocus.sendBinary(HocuspocusCodec.update(DOC, YTestUpdates.insertText(6, "t", "hp after")));
        status = hocus.until(m -> m instanceof byte[] && hp(m) instanceof HocuspocusCodec.SyncStatus, "SyncStatus");
        assertTrue(((HocuspocusCodec.SyncStatus) hp(status.getLast())).applied(), "SyncStatus(true)");
        reader.until(m -> isType(m, "update"), "relay of the Hocuspocus update");
        assertEquals(3, rows("yjs_updates"));
        assertEquals(2, rows("pm_steps"));
        assertEquals(java.util.Set.of(1L, 5L, 6L),
                YUpdates.decodeStateVector(YUpdates.stateVector(storedState())).keySet(),
                "only the acknowledged writers' clients are in the stored state");
    }
}
