package dev.collab.webhook;

/** Counts what became of webhook deliveries (one per event and URL). */
public interface WebhookMetrics {

    /** {@code result}: {@code delivered} (2xx), {@code failed} (retries exhausted), {@code dropped} (queue full). */
    void delivery(String result);

    WebhookMetrics NONE = result -> { };
}
