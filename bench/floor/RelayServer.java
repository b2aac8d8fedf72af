import io.helidon.common.buffers.BufferData;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.websocket.WsConfig;
import io.helidon.webserver.websocket.WsRouting;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The floor for ./collab bench: a bare Helidon 4 WebSocket relay with no room logic, no protocol, no storage.
 * Every binary (or text) message received on a path is sent to every other open connection on the same path.
 * WsSession.send is not thread-safe, so each connection's sends are serialized by a lock on that connection;
 * the sender's reader thread does the fan-out itself (no queues, no extra threads: the cheapest correct relay).
 *
 * Compiled at bench time against target/libs/*; run: java -cp out:target/libs/* RelayServer PORT
 */
public final class RelayServer {
    private static final ConcurrentHashMap<String, Set<Peer>> PATHS = new ConcurrentHashMap<>();

    private static final class Peer implements WsListener {
        private WsSession session;
        private String path;
        private volatile boolean open;

        @Override
        public void onOpen(WsSession session) {
            this.session = session;
            this.path = currentPath;
            this.open = true;
            PATHS.computeIfAbsent(path, p -> ConcurrentHashMap.newKeySet()).add(this);
        }

        // set in onHttpUpgrade, which runs on the same thread right before onOpen
        private String currentPath = "/";

        @Override
        public java.util.Optional<io.helidon.http.Headers> onHttpUpgrade(io.helidon.http.HttpPrologue prologue,
                                                                         io.helidon.http.Headers headers) {
            currentPath = prologue.uriPath().rawPath();
            return java.util.Optional.empty();
        }

        @Override
        public void onMessage(WsSession session, BufferData buffer, boolean last) {
            byte[] bytes = new byte[buffer.available()];
            buffer.read(bytes);
            for (Peer p : PATHS.getOrDefault(path, Set.of())) {
                if (p != this) {
                    p.sendBinary(bytes, last);
                }
            }
        }

        @Override
        public void onMessage(WsSession session, String text, boolean last) {
            for (Peer p : PATHS.getOrDefault(path, Set.of())) {
                if (p != this) {
                    p.sendText(text, last);
                }
            }
        }

        private synchronized void sendBinary(byte[] bytes, boolean last) {
            if (!open) {
                return;
            }
            try {
                session.send(BufferData.create(bytes), last);
            } catch (RuntimeException e) {
                gone();
            }
        }

        private synchronized void sendText(String text, boolean last) {
            if (!open) {
                return;
            }
            try {
                session.send(text, last);
            } catch (RuntimeException e) {
                gone();
            }
        }

        @Override
        public void onClose(WsSession session, int status, String reason) {
            gone();
        }

        @Override
        public void onError(WsSession session, Throwable t) {
            gone();
        }

        private void gone() {
            open = false;
            Set<Peer> peers = PATHS.get(path);
            if (peers != null) {
                peers.remove(this);
            }
        }
    }

    public static void main(String[] args) {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(port)
                .connectionOptions(o -> o.tcpNoDelay(true))     // as the project's server
                .addProtocol(WsConfig.builder().name("websocket").maxFrameLength(8 * 1024 * 1024).build())
                .addRouting(WsRouting.builder().endpoint("/*", Peer::new))
                .build()
                .start();
        System.out.println("relay listening on port " + server.port());
    }
}
