package dev.collab.transport;

import java.time.Duration;
import java.util.List;

/**
 * What the transport enforces for every protocol: message size, unsent bytes per connection, keepalive, Origin
 * allowlist (empty = any), connections per client address, message rate, and the deadline to authenticate.
 * {@code trustedProxies} are peers whose X-Forwarded-For names the real client.
 */
public record TransportLimits(int maxMessageBytes, long maxQueuedBytes, Duration pingInterval,
                              List<String> allowedOrigins, int maxConnectionsPerIp, int messagesPerSecond,
                              Duration authTimeout, List<String> trustedProxies) {
    public TransportLimits {
        allowedOrigins = List.copyOf(allowedOrigins);
        trustedProxies = List.copyOf(trustedProxies);
    }
}
