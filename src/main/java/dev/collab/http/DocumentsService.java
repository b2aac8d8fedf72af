package dev.collab.http;

import dev.collab.auth.Access;
import dev.collab.auth.AccessPolicy;
import dev.collab.room.DocumentIds;
import dev.collab.room.Room;
import dev.collab.room.Rooms;
import dev.collab.store.Store;
import dev.collab.yjs.Lib0Reader;
import io.helidon.http.Method;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The document API for backends (docs/openapi.yaml): list stored documents, read one's metadata, read a steps
 * document's content (latest snapshot + the steps after it), write a Yjs update through the room, delete a
 * document. Callers present the admin token, or an access token for the document: read-only tokens may read,
 * writing and deleting need read-write.
 *
 * <p>{@code GET /documents/{id}/content} answers here only for steps documents; for every other document it
 * passes the request on ({@code res.next()}) to the Yjs content reader registered after this service.
 */
public final class DocumentsService implements HttpService {
    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 1000;
    private static final int STEPS_PER_READ = 10_000;
    private static final long TIMEOUT_SECONDS = 30;

    private final Rooms rooms;
    private final Store store;
    private final AdminAuth admin;
    private final AccessPolicy access;
    private final int maxUpdateBytes;

    public DocumentsService(Rooms rooms, Store store, String adminToken, AccessPolicy access, int maxUpdateBytes) {
        this.rooms = rooms;
        this.store = store;
        this.admin = new AdminAuth(adminToken);
        this.access = access;
        this.maxUpdateBytes = maxUpdateBytes;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/documents", this::list)
                .get("/documents/{id}", this::metadata)
                .delete("/documents/{id}", this::delete)
                .get("/documents/{id}/content", this::content)
                .post("/documents/{id}/updates", this::postUpdate);
        AllowedMethods.register(rules, "/documents", Method.GET);
        AllowedMethods.register(rules, "/documents/{id}", Method.GET, Method.DELETE);
        AllowedMethods.register(rules, "/documents/{id}/updates", Method.POST);
        // /documents/{id}/content's 405 is ContentService's: it answers POST there, after this service
    }

    // ---- handlers ------------------------------------------------------------------------------------------

    private void list(ServerRequest req, ServerResponse res) {
        Predicate<String> readable = readableDocuments(req, res);
        if (readable == null) {
            return;
        }
        String prefix = req.query().first("prefix").orElse("");
        int limit;
        try {
            limit = Integer.parseInt(req.query().first("limit").orElse(Integer.toString(DEFAULT_PAGE)));
        } catch (NumberFormatException e) {
            badRequest(res, "\"limit\" must be a whole number");
            return;
        }
        if (limit < 1 || limit > MAX_PAGE) {
            badRequest(res, "\"limit\" must be between 1 and " + MAX_PAGE);
            return;
        }
        String after = null;
        Optional<String> cursor = req.query().first("after").asOptional();
        if (cursor.isPresent()) {
            try {
                after = new String(Base64.getUrlDecoder().decode(cursor.get()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                badRequest(res, "\"after\" is not a cursor this server gave out");
                return;
            }
        }
        // a token sees only its documents: scan pages of the store until this page is full or the ids run out
        List<Store.DocumentInfo> page = new ArrayList<>();
        boolean storeHasMore = true;
        while (page.size() < limit && storeHasMore) {
            List<Store.DocumentInfo> batch = store.documents(prefix, after, limit);
            storeHasMore = batch.size() == limit;
            for (int i = 0; i < batch.size() && page.size() < limit; i++) {
                after = batch.get(i).documentId();
                if (readable.test(after)) {
                    page.add(batch.get(i));
                }
                if (page.size() == limit && i < batch.size() - 1) {
                    storeHasMore = true;       // stopped inside the batch: its rest is still to come
                }
            }
        }
        JsonArrayBuilder documents = Json.createArrayBuilder();
        for (Store.DocumentInfo d : page) {
            documents.add(Json.createObjectBuilder()
                    .add("documentId", d.documentId())
                    .add("kind", d.kind())
                    .add("updatedAt", instant(d.updatedAt()))
                    .add("bytes", d.bytes())
                    .add("connections", connections(d.documentId())));
        }
        JsonObjectBuilder body = Json.createObjectBuilder().add("documents", documents);
        if (storeHasMore && !page.isEmpty()) {
            body.add("next", Base64.getUrlEncoder().withoutPadding().encodeToString(
                    page.get(page.size() - 1).documentId().getBytes(StandardCharsets.UTF_8)));
        } else {
            body.addNull("next");
        }
        send(res, Status.OK_200, body.build());
    }

    private void metadata(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        // an open server lets anyone open any document over WebSocket, so its metadata is no secret either (the
        // demo editor reads the kind from here to pick its mode)
        boolean openRead = access.isOpen() && DocumentIds.problem(id) == null;
        if (!openRead && authorize(req, res, id, false) == null) {
            return;
        }
        Optional<Store.DocumentInfo> info = store.document(id);
        if (info.isEmpty()) {
            notFound(res, id);
            return;
        }
        Store.DocumentInfo d = info.get();
        send(res, Status.OK_200, Json.createObjectBuilder()
                .add("documentId", d.documentId())
                .add("kind", d.kind())
                .add("version", d.stepVersion())
                .add("updates", d.updateCount())
                .add("bytes", d.bytes())
                .add("createdAt", instant(d.createdAt()))
                .add("updatedAt", instant(d.updatedAt()))
                .add("connections", connections(id))
                .build());
    }

    /** Steps documents: the newest snapshot and the steps after it. Anything else: the next handler's. */
    private void content(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        if (authorize(req, res, id, false) == null) {
            return;
        }
        Optional<Store.DocumentInfo> info = store.document(id);
        if (info.isEmpty() || !"steps".equals(info.get().kind())) {
            res.next();
            return;
        }
        int version = info.get().stepVersion();
        Optional<Store.StoredSnapshot> snapshot = store.snapshot(id).filter(s -> s.version() <= version);
        int from = snapshot.map(Store.StoredSnapshot::version).orElse(0);
        // steps are stored as JSON text: embed them as JSON
        StringBuilder steps = new StringBuilder("[");
        StringBuilder clientIds = new StringBuilder("[");
        int next = from;
        while (next < version) {
            List<Store.StoredStep> batch = store.stepsSince(id, next, STEPS_PER_READ);
            if (batch.isEmpty()) {
                break;
            }
            for (Store.StoredStep step : batch) {
                steps.append(next > from ? "," : "").append(step.stepJson());
                clientIds.append(next > from ? "," : "").append(Json.createValue(step.clientId()));
                next++;
            }
        }
        String body = "{\"documentId\":" + Json.createValue(id) + ",\"kind\":\"steps\",\"version\":" + next
                + ",\"snapshot\":" + snapshot.map(s -> "{\"version\":" + s.version() + ",\"doc\":" + s.docJson() + "}")
                .orElse("null")
                + ",\"steps\":" + steps.append(']') + ",\"clientIDs\":" + clientIds.append(']') + "}";
        res.header(HeaderValues.CONTENT_TYPE_JSON).send(body);
    }

    private void postUpdate(ServerRequest req, ServerResponse res) throws Exception {
        String id = req.path().pathParameters().get("id");
        Access caller = authorize(req, res, id, true);
        if (caller == null) {
            return;
        }
        byte[] update = req.content().hasEntity() ? req.content().as(byte[].class) : new byte[0];
        if (update.length == 0) {
            badRequest(res, "the body must be a binary Yjs update");
            return;
        }
        if (update.length > maxUpdateBytes) {
            JsonResponses.error(res, Status.REQUEST_ENTITY_TOO_LARGE_413, "too-big",
                    "the update is larger than " + maxUpdateBytes + " bytes (COLLAB_MAX_MESSAGE_BYTES)");
            return;
        }
        Room room = rooms.acquire(id);
        try {
            if (room.submitUpdate(update, caller.userId()).get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
                    instanceof Room.WriteResult.Refused refused) {
                JsonResponses.error(res, refused.refusal() == Room.Refusal.STORAGE_FAILURE
                        ? Status.SERVICE_UNAVAILABLE_503 : Status.CONFLICT_409, refused.code(), refused.message());
            } else {
                res.status(Status.NO_CONTENT_204).send();
            }
        } catch (ExecutionException e) {
            Throwable cause = Room.failureOf(e.getCause());
            if (cause instanceof Lib0Reader.MalformedException malformed) {
                JsonResponses.error(res, Status.BAD_REQUEST_400, "invalid-update",
                        "the body is not a valid Yjs update: " + malformed.getMessage());
            } else {
                throw e;
            }
        } finally {
            rooms.release(room);
        }
    }

    private void delete(ServerRequest req, ServerResponse res) throws Exception {
        String id = req.path().pathParameters().get("id");
        if (authorize(req, res, id, true) == null) {
            return;
        }
        if (store.document(id).isEmpty() && rooms.find(id) == null) {
            notFound(res, id);
            return;
        }
        boolean existed = rooms.delete(id).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (existed) {
            res.status(Status.NO_CONTENT_204).send();
        } else {
            notFound(res, id);     // only connections without content: they were closed all the same
        }
    }

    // ---- access --------------------------------------------------------------------------------------------

    /**
     * The caller's access to document {@code id} (the admin token counts as read-write to everything), or null
     * after answering 400 / 401 / 403.
     */
    Access authorize(ServerRequest req, ServerResponse res, String id, boolean write) {
        String problem = DocumentIds.problem(id);
        if (problem != null) {
            badRequest(res, problem);
            return null;
        }
        if (admin.matches(req)) {
            return Access.readWrite(null);
        }
        String bearer = bearer(req);
        if (bearer == null || access.isOpen()) {
            admin.check(req, res);        // answers 401, or 503 while no admin token is configured
            return null;
        }
        Access granted = access.check(bearer, id);
        if (!granted.granted()) {
            refuse(res, granted);
            return null;
        }
        if (write && !granted.canWrite()) {
            JsonResponses.error(res, Status.FORBIDDEN_403, "read-only", "this token may read the document, not change it");
            return null;
        }
        return granted;
    }

    /** Which ids the caller may read (everything for the admin), or null after answering 401. */
    private Predicate<String> readableDocuments(ServerRequest req, ServerResponse res) {
        if (admin.matches(req)) {
            return id -> true;
        }
        String bearer = bearer(req);
        if (bearer == null || access.isOpen()) {
            admin.check(req, res);
            return null;
        }
        Predicate<String> readable = access.readable(bearer);
        if (readable == null) {
            refuse(res, access.check(bearer, "-"));
            return null;
        }
        return readable;
    }

    private static String bearer(ServerRequest req) {
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        return header.startsWith("Bearer ") ? header.substring(7).trim() : null;
    }

    private static void refuse(ServerResponse res, Access refused) {
        if (refused.status() == 403) {
            JsonResponses.error(res, Status.FORBIDDEN_403, "forbidden", refused.reason());
        } else {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
            JsonResponses.error(res, Status.UNAUTHORIZED_401, "unauthorized", refused.reason());
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private int connections(String id) {
        Room room = rooms.find(id);
        return room == null ? 0 : room.stats().connections();
    }

    private static String instant(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }

    private static void send(ServerResponse res, Status status, JsonObject body) {
        res.status(status).header(HeaderValues.CONTENT_TYPE_JSON).send(body.toString());
    }

    private static void notFound(ServerResponse res, String id) {
        JsonResponses.error(res, Status.NOT_FOUND_404, "not-found", "no stored document " + id);
    }

    private static void badRequest(ServerResponse res, String message) {
        JsonResponses.error(res, Status.BAD_REQUEST_400, "bad-request", message);
    }
}
