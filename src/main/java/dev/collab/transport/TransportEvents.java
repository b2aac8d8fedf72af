package dev.collab.transport;

/** What the transport reports for metrics and logs. All methods must be cheap and thread-safe. */
public interface TransportEvents {
    TransportEvents NONE = new TransportEvents() {
    };

    /** One complete inbound message of {@code kind} and {@code bytes} on {@code protocol}. */
    default void inbound(String protocol, String kind, int bytes) {
    }

    /** One outbound message of {@code kind} and {@code bytes} on {@code protocol}. */
    default void outbound(String protocol, String kind, int bytes) {
    }

    /** A refused upgrade, connection or message, by reason (origin, auth, too-big, rate-limit, ...). */
    default void refused(String reason) {
    }

    default void slowConsumer(String protocol) {
    }
}
