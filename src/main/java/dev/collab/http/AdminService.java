package dev.collab.http;

import dev.collab.room.Room;
import dev.collab.room.Rooms;
import dev.collab.store.DocumentKind;
import dev.collab.store.Store;
import dev.collab.transport.ConnectionManager;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import jakarta.json.bind.annotation.JsonbNillable;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code /health} and the admin API: documents with open connections and their counts. */
public final class AdminService implements HttpService {
    private static final System.Logger LOG = System.getLogger(AdminService.class.getName());
    private final Rooms rooms;
    private final ConnectionManager connections;
    private final Store store;
    private final AdminAuth auth;
    private final Instant started = Instant.now();
    private final String nodeId;

    public AdminService(Rooms rooms, ConnectionManager connections, Store store, String adminToken, String nodeId) {
        this.nodeId = nodeId;
        this.rooms = rooms;
        this.connections = connections;
        this.store = store;
        this.auth = new AdminAuth(adminToken);
    }

    public record Health(String status, String node, int documents, int connections, long uptimeSeconds,
                         Map<String, Long> connectionsByProtocol) {
    }

    /** {@code kind}: {@code yjs}, {@code steps}, or null while the document was never written. */
    public record DocumentSummary(String documentId, @JsonbNillable String kind, int connections, int version,
                                  int updates, long updateBytes) {
        static DocumentSummary of(Room.Stats s) {
            return new DocumentSummary(s.documentId(), kindName(s.kind()), s.connections(), s.version(),
                    s.storedUpdates(), s.storedUpdateBytes());
        }
    }

    public record DocumentDetail(String documentId, @JsonbNillable String kind, int connections, List<ClientView> clients,
                                 int version, int updates, long updateBytes) {
    }

    /** One connection: {@code user} is the token's {@code sub} (null on an open server), times are ISO-8601. */
    public record ClientView(String clientID, String protocol, @JsonbNillable String user, boolean readOnly,
                             @JsonbNillable String address, String connectedAt) {
        static ClientView of(Room.Client c) {
            return new ClientView(c.clientID(), c.protocol(), c.user(), c.readOnly(), c.address(),
                    Instant.ofEpochMilli(c.connectedAt()).toString());
        }
    }

    public record Closed(int closed) {
    }

    static String kindName(DocumentKind kind) {
        return kind == null ? null : kind.wire();
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/health", this::health)
                .get("/admin/documents", this::documents)
                .get("/admin/documents/{id}", this::document)
                .delete("/admin/documents/{id}/connections", this::disconnect);
        AllowedMethods.register(rules, "/health", Method.GET);
        AllowedMethods.register(rules, "/admin/documents", Method.GET);
        AllowedMethods.register(rules, "/admin/documents/{id}", Method.GET);
        AllowedMethods.register(rules, "/admin/documents/{id}/connections", Method.DELETE);
    }

    private void health(ServerRequest req, ServerResponse res) {
        boolean up = store.isHealthy();
        JsonResponses.send(res, up ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503, new Health(up ? "UP" : "DOWN", nodeId,
                rooms.size(), connections.openConnections(),
                Duration.between(started, Instant.now()).toSeconds(), connections.openByProtocol()));
    }

    private void documents(ServerRequest req, ServerResponse res) {
        if (!auth.check(req, res)) {
            return;
        }
        List<DocumentSummary> docs = rooms.withConnections().stream().map(DocumentSummary::of)
                .sorted(Comparator.comparing(DocumentSummary::documentId)).toList();
        JsonResponses.send(res, Status.OK_200, docs);
    }

    private void document(ServerRequest req, ServerResponse res) throws Exception {
        if (!auth.check(req, res)) {
            return;
        }
        String id = req.path().pathParameters().get("id");
        Room room = rooms.find(id);
        if (room != null && room.stats().connections() > 0) {
            Room.Stats s = room.stats();
            List<ClientView> clients = room.clients().get(5, TimeUnit.SECONDS).stream().map(ClientView::of).toList();
            JsonResponses.send(res, Status.OK_200, new DocumentDetail(id, kindName(s.kind()), clients.size(), clients,
                    s.version(), s.storedUpdates(), s.storedUpdateBytes()));
            return;
        }
        // no open connection: the stored figures, so a document is found whether or not someone has it open
        Store.DocumentHead head = store.head(id);
        if (head.kind() == null && store.document(id).isEmpty()) {
            JsonResponses.error(res, Status.NOT_FOUND_404, "not-found", "document " + id + " was never written");
            return;
        }
        JsonResponses.send(res, Status.OK_200, new DocumentDetail(id, kindName(head.kind()), 0, List.of(),
                head.stepVersion(), head.updateCount(), head.updateBytes()));
    }

    /** Closes every connection of the document, or with {@code ?user=<sub>} only that user's: {"closed":N}. */
    private void disconnect(ServerRequest req, ServerResponse res) throws Exception {
        if (!auth.check(req, res)) {
            return;
        }
        String id = req.path().pathParameters().get("id");
        String user = req.query().first("user").filter(u -> !u.isEmpty()).orElse(null);
        Room room = rooms.find(id);
        int closed = room == null ? 0 : room.disconnect(user, user == null
                ? "disconnected by the administrator" : "user " + user + " disconnected by the administrator")
                .get(5, TimeUnit.SECONDS);
        LOG.log(System.Logger.Level.INFO, "admin disconnect doc={0} user={1}: {2} connection(s) closed", id,
                user == null ? "*" : user, closed);
        JsonResponses.send(res, Status.OK_200, new Closed(closed));
    }
}
