package dev.collab.http;

import dev.collab.transport.TransportEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The server's Prometheus metrics (Micrometer). Counters are cached by label set so the per-message cost is a
 * map lookup and an add, not a registry lookup.
 */
public final class ServerMetrics implements TransportEvents {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private static final String IN = "in";
    private static final String OUT = "out";
    private final Map<String, Map<String, Counter[]>> trafficIn = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Counter[]>> trafficOut = new ConcurrentHashMap<>();
    private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
    private final Map<String, Counter> slow = new ConcurrentHashMap<>();
    private final Map<String, Counter> webhooks = new ConcurrentHashMap<>();
    private final Counter authFailures;
    private final Timer commits;

    public ServerMetrics() {
        authFailures = Counter.builder("collab.auth.failures").description("refused tokens, origins and auth timeouts")
                .register(registry);
        commits = Timer.builder("collab.store.commit").description("duration of one SQLite group commit")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(5)).register(registry);
        // the standard JVM and process meters, from Micrometer's own binders
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** Refusal reasons counted from start-up at 0, so a dashboard's series exist before the first refusal. */
    public static final List<String> REFUSAL_REASONS = List.of("origin", "auth", "auth-timeout", "upgrade",
            "too-big", "rate-limit", "connections-per-ip", "document-full", "read-only", "document-kind",
            "invalid-message", "heartbeat");

    /**
     * Registers every {@code collab_*} series a fresh server can name, at 0: refusals by reason, slow consumers
     * and message counters per protocol (kind {@code other} stands in until real kinds are seen).
     */
    public void registerAtZero(String... protocols) {
        REFUSAL_REASONS.forEach(this::rejectedCounter);
        List.of("delivered", "failed", "dropped").forEach(this::webhookCounter);
        for (String protocol : protocols) {
            slowCounter(protocol);
            for (String direction : List.of(IN, OUT)) {
                counters(direction, protocol, "other");
            }
        }
    }

    /** A gauge read at scrape time. */
    public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value, String... tags) {
        // strongReference: Micrometer holds gauge sources weakly, and a lambda or method reference handed in
        // here is referenced by nothing else, so it would be collected and the gauge would read NaN
        Gauge.builder(name, source, value).description(description).tags(tags).strongReference(true)
                .register(registry);
    }

    /** Open connections per protocol, read at scrape time. */
    public void connectionGauges(Supplier<Map<String, Long>> byProtocol, String... protocols) {
        for (String protocol : protocols) {
            gauge("collab.connections.open", "open WebSocket connections", byProtocol,
                    s -> s.get().getOrDefault(protocol, 0L), "protocol", protocol);
        }
    }

    public void storeCommit(long nanos) {
        commits.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void inbound(String protocol, String kind, int bytes) {
        count(IN, protocol, kind, bytes);
    }

    @Override
    public void outbound(String protocol, String kind, int bytes) {
        count(OUT, protocol, kind, bytes);
    }

    private void count(String direction, String protocol, String kind, int bytes) {
        // two lookups on interned keys instead of building a key string per message
        Counter[] pair = counters(direction, protocol, kind);
        pair[0].increment();
        pair[1].increment(bytes);
    }

    private Counter[] counters(String direction, String protocol, String kind) {
        Map<String, Counter[]> byKind = (direction == IN ? trafficIn : trafficOut)
                .computeIfAbsent(protocol, p -> new ConcurrentHashMap<>());
        Counter[] pair = byKind.get(kind);
        if (pair == null) {
            pair = byKind.computeIfAbsent(kind, k -> new Counter[]{
                    Counter.builder("collab.messages").description("WebSocket messages")
                            .tags("direction", direction, "protocol", protocol, "kind", kind).register(registry),
                    Counter.builder("collab.message.bytes").description("WebSocket message payload bytes")
                            .tags("direction", direction, "protocol", protocol, "kind", kind).register(registry)});
        }
        return pair;
    }

    @Override
    public void refused(String reason) {
        rejectedCounter(reason).increment();
        if (reason.startsWith("auth") || reason.equals("origin")) {
            authFailures.increment();
        }
    }

    @Override
    public void slowConsumer(String protocol) {
        slowCounter(protocol).increment();
    }

    private Counter rejectedCounter(String reason) {
        return rejected.computeIfAbsent(reason, r -> Counter.builder("collab.rejected")
                .description("refused upgrades, connections and messages").tag("reason", r).register(registry));
    }

    private Counter slowCounter(String protocol) {
        return slow.computeIfAbsent(protocol, p -> Counter.builder("collab.slow.consumers")
                .description("connections closed for not reading").tag("protocol", p).register(registry));
    }

    /** One webhook delivery's outcome: delivered, failed (retries exhausted) or dropped (queue full). */
    public void webhookDelivery(String result) {
        webhookCounter(result).increment();
    }

    private Counter webhookCounter(String result) {
        return webhooks.computeIfAbsent(result, r -> Counter.builder("collab.webhook.deliveries")
                .description("webhook deliveries by outcome").tag("result", r).register(registry));
    }

    /** Prometheus text exposition format. */
    public String scrape() {
        return registry.scrape();
    }
}
