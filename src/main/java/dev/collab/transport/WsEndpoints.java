package dev.collab.transport;

import io.helidon.webserver.spi.ProtocolConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The server's WebSocket paths, handed to Helidon as a protocol configuration so that {@link WsUpgradeProvider}
 * (found by Helidon through the service loader) can take over the HTTP/1.1 upgrade. A path ending in {@code *}
 * matches every path with that prefix.
 */
public final class WsEndpoints implements ProtocolConfig {
    static final String TYPE = "collab-websocket";

    record Endpoint(String path, boolean prefix, String protocol, ProtocolHandler.Factory factory) {
        boolean matches(String requestPath) {
            return prefix ? requestPath.startsWith(path) : requestPath.equals(path);
        }
    }

    private final List<Endpoint> endpoints = new ArrayList<>();
    private final ConnectionManager manager;

    WsEndpoints(ConnectionManager manager) {
        this.manager = manager;
    }

    /** Serves {@code protocol} on {@code path} with handlers from {@code factory}. */
    public WsEndpoints add(String path, String protocol, ProtocolHandler.Factory factory) {
        boolean prefix = path.endsWith("*");
        endpoints.add(new Endpoint(prefix ? path.substring(0, path.length() - 1) : path, prefix, protocol, factory));
        return this;
    }

    /** A new connection's endpoint (one per connection: it keeps the upgrade request until the handler exists). */
    WsEndpoint newEndpoint(Endpoint endpoint) {
        return new WsEndpoint(manager, endpoint.protocol(), endpoint.factory());
    }

    Optional<Endpoint> find(String requestPath) {
        return endpoints.stream().filter(e -> e.matches(requestPath)).findFirst();
    }

    @Override
    public String name() {
        return TYPE;
    }

    @Override
    public String type() {
        return TYPE;
    }
}
