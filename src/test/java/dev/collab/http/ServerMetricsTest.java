package dev.collab.http;

import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerMetricsTest {

    /** The value of one sample line of the Prometheus text, e.g. {@code collab_connections_open{protocol="json"}}. */
    private static String sample(String scrape, String series) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(series + " ")) {
                return line.substring(series.length() + 1).trim();
            }
        }
        throw new AssertionError("no sample " + series + " in\n" + scrape);
    }

    @Test
    void connectionGaugesSurviveGarbageCollectionOfTheirSupplier() {
        ServerMetrics metrics = new ServerMetrics();
        long[] open = {3};
        // a lambda nothing else references, as Main passes connections::openByProtocol
        Supplier<Map<String, Long>> supplier = () -> Map.of("json", open[0]);
        WeakReference<Object> probe = new WeakReference<>(supplier);
        metrics.connectionGauges(supplier, "json", "y-websocket");
        supplier = null;
        // collect until the weak probe is cleared (it would be, were the supplier only weakly held by the gauge)
        for (int i = 0; i < 50 && probe.get() != null; i++) {
            System.gc();
        }
        String scrape = metrics.scrape();
        assertEquals("3.0", sample(scrape, "collab_connections_open{protocol=\"json\"}"));
        assertEquals("0.0", sample(scrape, "collab_connections_open{protocol=\"y-websocket\"}"));
        open[0] = 5;
        assertEquals("5.0", sample(metrics.scrape(), "collab_connections_open{protocol=\"json\"}"));
        assertFalse(metrics.scrape().contains("NaN"));
    }

    @Test
    void countersByLabelsAndRefusals() {
        ServerMetrics metrics = new ServerMetrics();
        metrics.inbound("json", "steps", 10);
        metrics.inbound("json", "steps", 5);
        metrics.outbound("hocuspocus", "sync-update", 7);
        metrics.refused("invalid-message");
        metrics.refused("origin");
        metrics.refused("auth");
        metrics.slowConsumer("json");
        metrics.storeCommit(2_000_000);
        String s = metrics.scrape();
        assertEquals("2.0", sample(s, "collab_messages_total{direction=\"in\",kind=\"steps\",protocol=\"json\"}"));
        assertEquals("15.0", sample(s, "collab_message_bytes_total{direction=\"in\",kind=\"steps\",protocol=\"json\"}"));
        assertEquals("7.0",
                sample(s, "collab_message_bytes_total{direction=\"out\",kind=\"sync-update\",protocol=\"hocuspocus\"}"));
        assertEquals("1.0", sample(s, "collab_rejected_total{reason=\"invalid-message\"}"));
        assertEquals("2.0", sample(s, "collab_auth_failures_total"), "origin and auth refusals are auth failures");
        assertEquals("1.0", sample(s, "collab_slow_consumers_total{protocol=\"json\"}"));
        assertEquals("1", sample(s, "collab_store_commit_seconds_count"));
        assertTrue(s.contains("# TYPE collab_store_commit_seconds histogram"));
    }
}
