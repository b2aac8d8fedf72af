import dev.collab.transport.Outbound;
import dev.collab.transport.ConnectionManager;
import dev.collab.transport.ProtocolHandler;
import dev.collab.transport.TransportEvents;
import dev.collab.transport.TransportLimits;
import dev.collab.transport.UpgradeRequest;
import io.helidon.webserver.WebServer;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * The floor for ./collab bench: a bare relay on the project's own transport (Helidon's HTTP server, the project's
 * WebSocket connection, outbound queues and writers) with no room logic, no protocol, no storage. Every message
 * received on a path is sent to every other open connection on the same path, from the sender's reader thread.
 *
 * Compiled at bench time against target/collab-server.jar and target/libs/*; run:
 * java -cp out:target/collab-server.jar:target/libs/* RelayServer PORT
 */
public final class RelayServer {
    private static final ConcurrentHashMap<String, Set<Outbound>> PATHS = new ConcurrentHashMap<>();

    private record Relay(String path, Outbound connection) implements ProtocolHandler {
        @Override
        public void onOpen() {
            PATHS.computeIfAbsent(path, p -> ConcurrentHashMap.newKeySet()).add(connection);
        }

        @Override
        public void onBinary(byte[] data) {
            for (Outbound c : PATHS.getOrDefault(path, Set.of())) {
                if (c != connection) {
                    c.sendBinary(data);
                }
            }
        }

        @Override
        public void onText(String text) {
            for (Outbound c : PATHS.getOrDefault(path, Set.of())) {
                if (c != connection) {
                    c.sendText(text);
                }
            }
        }

        @Override
        public void onClosed() {
            Set<Outbound> peers = PATHS.get(path);
            if (peers != null) {
                peers.remove(connection);
            }
        }
    }

    public static void main(String[] args) {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        ConnectionManager connections = new ConnectionManager(
                Executors.newScheduledThreadPool(1, Thread.ofPlatform().daemon().factory()),
                new TransportLimits(8 * 1024 * 1024, 32L * 1024 * 1024, Duration.ofSeconds(15), List.of(), 1_000_000,
                        100_000_000, Duration.ofSeconds(10), List.of()),
                TransportEvents.NONE);
        ProtocolHandler.Factory relay = (UpgradeRequest request, Outbound connection) -> new Relay(request.path(), connection);
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(port)
                .connectionOptions(o -> o.tcpNoDelay(true))     // as the project's server
                .useNio(false)                                   // as the project's server (plain sockets)
                .addProtocol(connections.endpoints().add("/*", "raw", relay))
                .build()
                .start();
        System.out.println("relay listening on port " + server.port());
    }
}
