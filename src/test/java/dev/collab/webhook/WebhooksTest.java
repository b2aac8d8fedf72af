package dev.collab.webhook;

import dev.collab.room.DocumentEvents.ChangeKind;
import dev.collab.room.Peer;
import dev.collab.room.RoomEvent;
import dev.collab.testing.Await;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.StringReader;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Webhooks against a real HTTP receiver, with virtual time for the debounce and the retry backoff (the
 * scheduler runs tasks only when the test advances it, so nothing here sleeps).
 */
class WebhooksTest {
    private static final String SECRET = "webhook-test-secret";
    private static final long T0 = 1_800_000_000_000L;

    private final ManualScheduler scheduler = new ManualScheduler(T0);
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final WebhookMetrics metrics = r -> counts.computeIfAbsent(r, k -> new AtomicInteger()).incrementAndGet();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Receiver> receivers = new ArrayList<>();

    @AfterEach
    void stopReceivers() {
        receivers.forEach(Receiver::close);
    }

    private Receiver receiver() throws Exception {
        Receiver r = new Receiver();
        receivers.add(r);
        return r;
    }

    private WebhookSender sender(Receiver to, WebhookSender.Limits limits) {
        return new WebhookSender(List.of(to.url()), SECRET, http, scheduler, metrics, limits);
    }

    private int count(String result) {
        AtomicInteger n = counts.get(result);
        return n == null ? 0 : n.get();
    }

    private static JsonObject json(String body) {
        return Json.createReader(new StringReader(body)).readObject();
    }

    private static final Peer ALICE = new Peer() {
        public String clientId() {
            return "c-1";
        }

        public String protocol() {
            return "hocuspocus";
        }

        public String userId() {
            return "alice";
        }

        public void deliver(RoomEvent event) {
        }

        public void replaced() {
        }

        public void documentDeleted() {
        }

        public void disconnect(String reason) {
        }
    };

    @Test
    void requestsCarryTheEventADeliveryIdATimestampAndAVerifiableSignature() throws Exception {
        Receiver receiver = receiver();
        Webhooks webhooks = new Webhooks(sender(receiver, WebhookSender.Limits.DEFAULT), scheduler, 2000, 10_000);
        webhooks.joined("doc-1", ALICE);

        Receiver.Request request = receiver.next();
        assertEquals("connection.opened", request.header("X-Collab-Event"));
        UUID.fromString(request.header("X-Collab-Delivery"));
        String timestamp = request.header("X-Collab-Timestamp");
        assertEquals(Long.toString(T0 / 1000), timestamp);
        // what a receiver does: HMAC-SHA256 over timestamp + "." + body with the shared secret
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = "sha256=" + HexFormat.of().formatHex(
                mac.doFinal((timestamp + "." + request.body()).getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, request.header("X-Collab-Signature-256"));

        JsonObject body = json(request.body());
        assertEquals("connection.opened", body.getString("event"));
        assertEquals("doc-1", body.getString("documentId"));
        assertEquals("alice", body.getString("userId"));
        assertEquals("hocuspocus", body.getString("protocol"));
        Await.until("the delivery is counted", () -> count("delivered") == 1);
    }

    @Test
    void aBurstOfChangesIsOneEventAfterTheDebounceCoveringTheLastSequenceAndEveryWriter() throws Exception {
        Receiver receiver = receiver();
        WebhookSender sender = sender(receiver, WebhookSender.Limits.DEFAULT);
        Webhooks webhooks = new Webhooks(sender, scheduler, 2000, 10_000);
        for (int seq = 1; seq <= 200; seq++) {
            scheduler.advanceTo(T0 + seq * 10L);
            webhooks.changed("doc-1", ChangeKind.YJS, seq, seq % 2 == 0 ? "alice" : "bob");
            assertEquals(0, sender.outstanding(), "nothing is sent while the burst goes on");
        }
        long last = T0 + 2000;
        scheduler.advanceTo(last + 1999);
        assertEquals(0, sender.outstanding(), "nor before the debounce has passed since the last change");
        scheduler.advanceTo(last + 2000);

        JsonObject event = json(receiver.next("document.changed").body());
        assertEquals("doc-1", event.getString("documentId"));
        assertEquals("yjs", event.getString("kind"));
        assertEquals(200, event.getInt("updateSeq"));
        assertEquals(200, event.getInt("changes"));
        assertEquals(List.of("bob", "alice"), event.getJsonArray("users").getValuesAs(jakarta.json.JsonString.class)
                .stream().map(jakarta.json.JsonString::getString).toList());
        assertEquals(0, scheduler.pending(), "one event for the whole burst, nothing else scheduled");
    }

    @Test
    void changesThatNeverPauseAreReportedAtLeastEveryTenSecondsButNeverTwiceWithinTheDebounce() throws Exception {
        Receiver receiver = receiver();
        WebhookSender sender = sender(receiver, WebhookSender.Limits.DEFAULT);
        Webhooks webhooks = new Webhooks(sender, scheduler, 2000, 10_000);
        int changes = 0;
        for (long t = T0; t <= T0 + 35_000; t += 500) {     // a change every 500 ms for 35 s
            scheduler.advanceTo(t);
            webhooks.changed("doc-s", ChangeKind.STEPS, ++changes, "alice");
        }
        scheduler.advanceBy(2000);                           // the changes stop: the rest is reported
        int steps = changes;
        // deliveries run concurrently, so they may arrive in any order: order them by their timestamps
        Await.until("every event is delivered", () -> sender.outstanding() == 0);
        List<JsonObject> events = new ArrayList<>();
        for (int n = receiver.receivedSoFar(); n > 0; n--) {
            events.add(json(receiver.next("document.changed").body()));
        }
        assertEquals(steps, events.stream().mapToInt(e -> e.getInt("version")).max().orElse(0));
        events.sort(java.util.Comparator.comparing(e -> Instant.parse(e.getString("timestamp"))));
        List<Instant> times = events.stream().map(e -> Instant.parse(e.getString("timestamp"))).toList();
        for (int i = 1; i < events.size(); i++) {
            assertEquals("steps", events.get(i).getString("kind"));
            assertTrue(events.get(i).getInt("version") > events.get(i - 1).getInt("version"),
                    "each event covers later changes: " + events);
        }
        assertTrue(times.size() >= 4, "35 s of changes give an event at least every 10 s: " + times);
        for (int i = 1; i < times.size(); i++) {
            long gap = Duration.between(times.get(i - 1), times.get(i)).toMillis();
            assertTrue(gap >= 2000 && gap <= 10_500, "gap " + gap + " ms between events " + times);
        }
    }

    @Test
    void aReceiverThatFailsTwiceGetsTheEventOnTheThirdAttemptWithTheSameDeliveryId() throws Exception {
        Receiver receiver = receiver().answering(500, 503);
        WebhookSender sender = sender(receiver, WebhookSender.Limits.DEFAULT);
        sender.send("document.deleted", "{\"event\":\"document.deleted\",\"documentId\":\"d\"}");

        String id = receiver.next().header("X-Collab-Delivery");
        Await.until("the first retry is scheduled", () -> scheduler.pending() == 1);
        scheduler.advanceBy(WebhookSender.FIRST_RETRY_MILLIS);
        assertEquals(id, receiver.next().header("X-Collab-Delivery"));
        Await.until("the second retry is scheduled", () -> scheduler.pending() == 1);
        scheduler.advanceBy(WebhookSender.FIRST_RETRY_MILLIS);
        assertEquals(1, receiver.receivedSoFar() + scheduler.pending(), "the backoff doubled: not due after 1 s");
        scheduler.advanceBy(WebhookSender.FIRST_RETRY_MILLIS);
        Receiver.Request third = receiver.next();
        assertEquals(id, third.header("X-Collab-Delivery"));
        Await.until("the event is counted as delivered", () -> count("delivered") == 1);
        assertEquals(0, count("failed"));
        assertEquals(0, sender.outstanding());
    }

    @Test
    void aReceiverThatKeepsFailingIsGivenUpAfterTheRetryPeriod() throws Exception {
        Receiver receiver = receiver().answering(500, 500, 500, 500, 500, 500, 500, 500);
        WebhookSender sender = sender(receiver, new WebhookSender.Limits(100, 4, Duration.ofSeconds(10),
                Duration.ofSeconds(5)));
        sender.send("document.deleted", "{}");
        for (int attempt = 1; attempt <= 3; attempt++) {           // at 0, 1 s, 3 s; the next would be at 7 s > 5 s
            receiver.next();
            if (attempt < 3) {
                Await.until("retry " + attempt + " is scheduled", () -> scheduler.pending() == 1);
                scheduler.advanceBy(WebhookSender.FIRST_RETRY_MILLIS << (attempt - 1));
            }
        }
        Await.until("the delivery is given up", () -> count("failed") == 1);
        assertEquals(0, scheduler.pending());
        assertEquals(0, sender.outstanding());
    }

    @Test
    void aFullQueueDropsNewDeliveriesAtOnceInsteadOfWaiting() throws Exception {
        Receiver receiver = receiver().hanging();
        WebhookSender sender = sender(receiver, new WebhookSender.Limits(4, 2, Duration.ofMinutes(5),
                Duration.ofMinutes(5)));
        for (int i = 0; i < 10; i++) {
            sender.send("document.deleted", "{\"n\":" + i + "}");   // returns at once although nothing is answered
        }
        assertEquals(6, count("dropped"));
        assertEquals(4, sender.outstanding());
        receiver.next();
        receiver.next();                                           // two in flight, the other two wait their turn
        assertEquals(0, count("delivered"));
    }
}
