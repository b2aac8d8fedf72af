package dev.collab.http;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.protocol.JsonOut;
import dev.collab.protocol.json.StrictJson;
import dev.collab.room.DocumentIds;
import dev.collab.room.Room;
import dev.collab.room.RoomEvent;
import dev.collab.room.Rooms;
import dev.collab.store.DocumentKind;
import dev.collab.store.Store;
import dev.collab.yjs.YUpdates;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The API for backends: push a message into a document's room, and read a document's history (steps since a
 * version, the merged Yjs state).
 */
public final class InternalService implements HttpService {
    private static final int MAX_STEPS_PER_RESPONSE = 10_000;
    private final Rooms rooms;
    private final Store store;
    private final AdminAuth admin;
    private final AdminAuth internal;
    private final AccessPolicy access;

    /** {@code internalToken} guards {@code /internal/*}; the history reads take the admin token (or access tokens). */
    public InternalService(Rooms rooms, Store store, String adminToken, String internalToken, AccessPolicy access) {
        this.rooms = rooms;
        this.store = store;
        this.admin = new AdminAuth(adminToken);
        this.internal = new AdminAuth(internalToken, "set COLLAB_INTERNAL_TOKEN (or COLLAB_ADMIN_TOKEN) to enable the"
                + " internal API");
        this.access = access;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/internal/documents/{id}/broadcast", this::broadcast)
                .get("/documents/{id}/steps", this::steps)
                .get("/documents/{id}/yjs", this::yjs);
        AllowedMethods.register(rules, "/internal/documents/{id}/broadcast", Method.POST);
        AllowedMethods.register(rules, "/documents/{id}/steps", Method.GET);
        AllowedMethods.register(rules, "/documents/{id}/yjs", Method.GET);
    }

    public record Delivered(int delivered) {
    }

    public record Steps(int version, List<String> steps, List<String> clientIDs) {
    }

    private void broadcast(ServerRequest req, ServerResponse res) throws Exception {
        if (!internal.check(req, res)) {
            return;
        }
        String id = req.path().pathParameters().get("id");
        JsonObject body;
        String text = req.content().hasEntity() ? req.content().as(String.class) : "";
        JsonValue value = StrictJson.parse(text).orElse(null);
        if (value == null) {
            badRequest(res, "the body is not valid JSON");
            return;
        }
        if (!(value instanceof JsonObject object)) {
            badRequest(res, "the body must be a JSON object");
            return;
        }
        body = object;
        if (!(body.get("type") instanceof JsonString type)) {
            badRequest(res, "\"type\" must be a string");
            return;
        }
        JsonValue payload = body.get("payload");
        if (payload == null) {
            badRequest(res, "\"payload\" is required");
            return;
        }
        String to = null;
        JsonValue toValue = body.get("to");
        if (toValue != null && toValue != JsonValue.NULL) {
            if (!(toValue instanceof JsonObject toObject) || !(toObject.get("id") instanceof JsonString toId)) {
                badRequest(res, "\"to\" must be an object with a string \"id\"");
                return;
            }
            to = toId.getString();
        }
        Room room = rooms.find(id);
        int delivered = room == null ? 0 : room.sendMessage(
                new RoomEvent.Message(type.getString(), payload.toString(), null, null, null), to)
                .get(5, TimeUnit.SECONDS);
        JsonResponses.send(res, Status.OK_200, new Delivered(delivered));
    }

    private void steps(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        if (!readAllowed(req, res, id)) {
            return;
        }
        int since;
        try {
            since = Integer.parseInt(req.query().first("since").orElse("0"));
        } catch (NumberFormatException e) {
            badRequest(res, "\"since\" must be a whole number");
            return;
        }
        Store.DocumentHead head = store.head(id);
        if (!isKind(res, id, head.kind(), DocumentKind.STEPS)) {
            return;
        }
        int version = head.stepVersion();
        if (since < 0 || since > version) {
            badRequest(res, "\"since\" must be between 0 and " + version);
            return;
        }
        List<Store.StoredStep> steps = store.stepsSince(id, since, MAX_STEPS_PER_RESPONSE);
        int to = since + steps.size();
        // version: the head; from/to: the range returned; more: capped, ask again with since=to
        StringBuilder sb = new StringBuilder("{\"version\":").append(Math.max(version, to))
                .append(",\"from\":").append(since).append(",\"to\":").append(to)
                .append(",\"more\":").append(to < version).append(",\"steps\":[");
        for (int i = 0; i < steps.size(); i++) {
            sb.append(i > 0 ? "," : "").append(steps.get(i).stepJson());
        }
        sb.append("],\"clientIDs\":[");
        for (int i = 0; i < steps.size(); i++) {
            sb.append(i > 0 ? "," : "").append(JsonOut.quote(steps.get(i).clientId()));
        }
        sb.append("]}");
        res.header(HeaderValues.CONTENT_TYPE_JSON).send(sb.toString());
    }

    private void yjs(ServerRequest req, ServerResponse res) throws Exception {
        String id = req.path().pathParameters().get("id");
        if (!readAllowed(req, res, id)) {
            return;
        }
        Room room = rooms.find(id);
        DocumentKind kind = room != null && room.stats().kind() != null ? room.stats().kind() : store.head(id).kind();
        if (!isKind(res, id, kind, DocumentKind.YJS)) {
            return;
        }
        byte[] state = yjsState(rooms, store, id);
        res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream").send(state);
    }

    /** The merged Yjs state: from the room when it is in memory (it has the newest), else from the store. */
    static byte[] yjsState(Rooms rooms, Store store, String id) throws Exception {
        Room room = rooms.find(id);
        if (room != null) {
            return room.yjsState(null).get(30, TimeUnit.SECONDS);
        }
        List<byte[]> log = store.updates(id).stream().map(Store.StoredUpdate::data).toList();
        return log.isEmpty() ? YUpdates.EMPTY_UPDATE : log.size() == 1 ? log.get(0) : YUpdates.merge(log, true);
    }

    /**
     * True when the document is of {@code wanted}; otherwise answers 404 (never written: nothing to read) or 409
     * (the other kind: this history does not exist for it) and returns false.
     */
    private static boolean isKind(ServerResponse res, String id, DocumentKind kind, DocumentKind wanted) {
        if (kind == null) {
            JsonResponses.error(res, Status.NOT_FOUND_404, "not-found", "document " + id + " was never written");
            return false;
        }
        if (kind != wanted) {
            JsonResponses.error(res, Status.CONFLICT_409, Room.WRONG_KIND, "document " + id + " is a " + kind.wire()
                    + " document; it has no " + (wanted == DocumentKind.YJS ? "Yjs state" : "steps"));
            return false;
        }
        return true;
    }

    private static void badRequest(ServerResponse res, String message) {
        JsonResponses.error(res, Status.BAD_REQUEST_400, "bad-request", message);
    }

    /** The admin token, or an access token valid for this document (read-only is enough). */
    private boolean readAllowed(ServerRequest req, ServerResponse res, String id) {
        String problem = DocumentIds.problem(id);
        if (problem != null) {
            badRequest(res, problem);
            return false;
        }
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        String bearer = header.startsWith("Bearer ") ? header.substring(7).trim() : null;
        if (bearer != null && !access.isOpen()) {
            Access granted = access.check(bearer, id);
            if (granted.granted()) {
                return true;
            }
        }
        return admin.check(req, res);
    }

}
