package dev.collab.webhook;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Delivers signed webhook requests with the JDK's HTTP client, never blocking the caller. Each URL has its own
 * lane, so a hanging receiver delays only itself: a delivery (one event to one URL) waits in the lane's bounded
 * queue, at most {@code maxInFlight} requests per lane are open at once, a failed one
 * (non-2xx, error, timeout) is retried with exponential backoff until {@code retryFor} has passed since its
 * first attempt. When the queue (waiting, in flight and between retries) is full, new deliveries are dropped and
 * counted, so a slow or hanging receiver costs memory bounded by the queue and never time on a room.
 */
public final class WebhookSender {
    private static final System.Logger LOG = System.getLogger(WebhookSender.class.getName());
    static final long FIRST_RETRY_MILLIS = 1000;
    static final long MAX_RETRY_MILLIS = 60_000;

    /** Sizes and times; {@link #DEFAULT} is the server's. */
    public record Limits(int capacity, int maxInFlight, Duration requestTimeout, Duration retryFor) {
        public static final Limits DEFAULT = new Limits(10_000, 8, Duration.ofSeconds(10), Duration.ofMinutes(10));
    }

    private record Delivery(Lane lane, String event, String id, String body, long firstAttemptMillis, int attempt) {
        Delivery next() {
            return new Delivery(lane, event, id, body, firstAttemptMillis, attempt + 1);
        }

        URI url() {
            return lane.url;
        }
    }

    /** One receiver's queue and counts. */
    private static final class Lane {
        final URI url;
        final ConcurrentLinkedQueue<Delivery> ready = new ConcurrentLinkedQueue<>();
        final AtomicInteger outstanding = new AtomicInteger();   // queued + in flight + waiting to retry
        final AtomicInteger inFlight = new AtomicInteger();

        Lane(URI url) {
            this.url = url;
        }
    }

    private final List<Lane> lanes;
    private final byte[] secret;
    private final HttpClient http;
    private final Scheduler scheduler;
    private final WebhookMetrics metrics;
    private final Limits limits;

    public WebhookSender(List<URI> urls, String secret, HttpClient http, Scheduler scheduler, WebhookMetrics metrics,
                         Limits limits) {
        this.lanes = urls.stream().map(Lane::new).toList();
        this.secret = secret == null ? new byte[0] : secret.getBytes(StandardCharsets.UTF_8);
        this.http = http;
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.limits = limits;
    }

    /** Queues {@code body} (a JSON event) for every URL; returns at once. */
    public void send(String event, String body) {
        String id = UUID.randomUUID().toString();
        long now = scheduler.nowMillis();
        for (Lane lane : lanes) {
            if (lane.outstanding.incrementAndGet() > limits.capacity()) {
                lane.outstanding.decrementAndGet();
                metrics.delivery("dropped");
                LOG.log(System.Logger.Level.WARNING, "webhook queue full: dropped {0} for {1}", event, lane.url);
                continue;
            }
            lane.ready.add(new Delivery(lane, event, id, body, now, 1));
            pump(lane);
        }
    }

    /** Deliveries not finished yet (queued, in flight or waiting to retry), all URLs. */
    public int outstanding() {
        return lanes.stream().mapToInt(l -> l.outstanding.get()).sum();
    }

    /** Starts the lane's queued deliveries while fewer than the maximum are in flight. */
    private void pump(Lane lane) {
        while (true) {
            int running = lane.inFlight.get();
            if (running >= limits.maxInFlight()) {
                return;
            }
            if (!lane.inFlight.compareAndSet(running, running + 1)) {
                continue;
            }
            Delivery d = lane.ready.poll();
            if (d == null) {
                lane.inFlight.decrementAndGet();
                if (lane.ready.isEmpty()) {
                    return;
                }
                continue;          // something was queued between the poll and the decrement
            }
            attempt(d);
        }
    }

    private void attempt(Delivery d) {
        long timestamp = scheduler.nowMillis() / 1000;
        HttpRequest.Builder request = HttpRequest.newBuilder(d.url())
                .timeout(limits.requestTimeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", "collab-server-webhooks")
                .header("X-Collab-Event", d.event())
                .header("X-Collab-Delivery", d.id())
                .header("X-Collab-Timestamp", Long.toString(timestamp))
                .POST(HttpRequest.BodyPublishers.ofString(d.body(), StandardCharsets.UTF_8));
        if (secret.length > 0) {
            request.header("X-Collab-Signature-256", "sha256=" + signature(secret, timestamp + "." + d.body()));
        }
        try {
            http.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding())
                    .whenComplete((response, error) -> finished(d, response == null ? -1 : response.statusCode(), error));
        } catch (RuntimeException e) {
            finished(d, -1, e);
        }
    }

    private void finished(Delivery d, int status, Throwable error) {
        Lane lane = d.lane();
        lane.inFlight.decrementAndGet();
        if (error == null && status >= 200 && status < 300) {
            lane.outstanding.decrementAndGet();
            metrics.delivery("delivered");
        } else {
            long delay = Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(20, d.attempt() - 1));
            if (scheduler.nowMillis() + delay - d.firstAttemptMillis() > limits.retryFor().toMillis()) {
                lane.outstanding.decrementAndGet();
                metrics.delivery("failed");
                LOG.log(System.Logger.Level.WARNING, "webhook {0} {1} to {2} failed after {3} attempts: {4}",
                        d.event(), d.id(), d.url(), d.attempt(), error != null ? error.toString() : "HTTP " + status);
            } else {
                scheduler.schedule(delay, () -> {
                    lane.ready.add(d.next());
                    pump(lane);
                });
            }
        }
        pump(lane);
    }

    /** Hex HMAC-SHA256 of {@code signed} under {@code key}: what receivers recompute to verify a request. */
    static String signature(byte[] key, String signed) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
