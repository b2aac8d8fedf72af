package dev.collab.http;

import dev.collab.auth.Access;
import dev.collab.protocol.json.StrictJson;
import dev.collab.room.Room;
import dev.collab.room.Rooms;
import dev.collab.store.Store;
import dev.collab.yjs.JsValues;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.ProseMirrorEncoder;
import dev.collab.yjs.YContent;
import dev.collab.yjs.YDocument;
import dev.collab.yjs.YUpdates;
import io.helidon.http.Method;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import jakarta.json.JsonValue;

import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A Yjs document's content for backends, computed from the stored state in Java: {@code GET
 * /documents/{id}/content} as ProseMirror JSON, plain text or {@code ydoc.toJSON()}, and {@code POST
 * /documents/{id}/content} seeding an empty field from ProseMirror JSON through the room, like a client's write.
 */
public final class ContentService implements HttpService {
    static final String DEFAULT_FIELD = "default";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Rooms rooms;
    private final Store store;
    private final DocumentsService documents;

    /** {@code documents} answers content requests for steps documents first and decides who may do what. */
    public ContentService(Rooms rooms, Store store, DocumentsService documents) {
        this.rooms = rooms;
        this.store = store;
        this.documents = documents;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/documents/{id}/content", this::read)
                .post("/documents/{id}/content", this::seed);
        AllowedMethods.register(rules, "/documents/{id}/content", Method.GET, Method.POST);
    }

    /** Error body with the document's top-level names, for a field that does not exist. */
    public record UnknownField(String error, String message, List<String> fields) {
    }

    public record Seeded(String documentId, String field, long clientId, int bytes) {
    }

    private void read(ServerRequest req, ServerResponse res) throws Exception {
        String id = req.path().pathParameters().get("id");
        if (documents.authorize(req, res, id, false) == null) {
            return;
        }
        String format = req.query().first("format").orElse("prosemirror");
        String field = req.query().first("field").orElse(DEFAULT_FIELD);
        if (!List.of("prosemirror", "text", "json").contains(format)) {
            badRequest(res, "\"format\" must be prosemirror, text or json");
            return;
        }
        YDocument doc;
        try {
            doc = YDocument.decode(InternalService.yjsState(rooms, store, id));
        } catch (MalformedException e) {
            // stored updates are validated one by one; yjs itself would fail to load a state refused here
            JsonResponses.error(res, Status.create(422, "Unprocessable Content"), "undecodable",
                    "the stored state does not decode as a Yjs document: " + e.getMessage());
            return;
        }
        if (format.equals("json")) {
            res.header(HeaderValues.CONTENT_TYPE_JSON).send(YContent.toJson(doc));
            return;
        }
        if (doc.root(field) == null) {
            JsonResponses.send(res, Status.BAD_REQUEST_400, new UnknownField("unknown-field",
                    "the document has no top-level type named \"" + field + "\"", doc.rootNames()));
            return;
        }
        try {
            if (format.equals("text")) {
                res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=UTF-8").send(YContent.plainText(doc, field));
            } else {
                res.header(HeaderValues.CONTENT_TYPE_JSON).send(YContent.prosemirrorJson(doc, field));
            }
        } catch (YContent.NotConvertible e) {
            JsonResponses.error(res, Status.BAD_REQUEST_400, "not-convertible", e.getMessage());
        }
    }

    private void seed(ServerRequest req, ServerResponse res) throws Exception {
        String id = req.path().pathParameters().get("id");
        Access caller = documents.authorize(req, res, id, true);
        if (caller == null) {
            return;
        }
        String field = req.query().first("field").orElse(DEFAULT_FIELD);
        if (field.isEmpty()) {
            badRequest(res, "\"field\" must not be empty");
            return;
        }
        String text = req.content().hasEntity() ? req.content().as(String.class) : "";
        JsonValue json = StrictJson.parse(text).orElse(null);
        if (json == null) {
            badRequest(res, "the body must be ProseMirror JSON: {\"type\":\"doc\",\"content\":[...]}");
            return;
        }
        Object doc = JsValues.fromJsonP(json);
        try {
            ProseMirrorEncoder.encode(doc, field, 0, 0);        // refuse malformed JSON before touching the room
        } catch (IllegalArgumentException e) {
            badRequest(res, e.getMessage());
            return;
        }
        if (isStepsDocument(id)) {
            stepsDocument(res, id);
            return;
        }
        long[] client = new long[1];
        int[] bytes = new int[1];
        Room room = rooms.acquire(id);
        try {
            Room.WriteResult result = room.submitComputedUpdate(state -> {
                YDocument current = YDocument.decode(state);
                YDocument.YType root = current.root(field);
                if (root != null && !root.elements().isEmpty()) {
                    return new Room.Computed.Refused("field-not-empty", "\"" + field + "\" already has content");
                }
                if (root != null) {
                    YContent.fragment(current, field);       // refuses a field used as a Y.Text, Y.Map or Y.Array
                }
                client[0] = unusedClientId(state);
                byte[] update = ProseMirrorEncoder.encode(doc, field, client[0], 0);
                bytes[0] = update.length;
                return new Room.Computed.Update(update);
            }, caller.userId()).get(30, TimeUnit.SECONDS);
            if (result instanceof Room.WriteResult.Refused refused) {
                Status status = refused.refusal() == Room.Refusal.STORAGE_FAILURE ? Status.SERVICE_UNAVAILABLE_503 : Status.CONFLICT_409;
                JsonResponses.error(res, status, refused.code(), refused.message());
                return;
            }
        } catch (ExecutionException e) {
            Throwable cause = Room.failureOf(e.getCause());
            if (cause instanceof YContent.NotConvertible || cause instanceof MalformedException) {
                JsonResponses.error(res, Status.CONFLICT_409, "field-not-a-fragment", cause.getMessage());
            } else {
                throw e;
            }
            return;
        } finally {
            rooms.release(room);
        }
        JsonResponses.send(res, Status.CREATED_201, new Seeded(id, field, client[0], bytes[0]));
    }

    /** A document of ProseMirror steps (GET /documents/{id}/content answers with its snapshot and steps). */
    private boolean isStepsDocument(String id) {
        return store.document(id).map(d -> "steps".equals(d.kind())).orElse(false);
    }

    private static void stepsDocument(ServerResponse res, String id) {
        JsonResponses.error(res, Status.CONFLICT_409, "steps-document",
                "document " + id + " holds ProseMirror steps, not Yjs updates");
    }

    /** A random 32-bit client id (as yjs picks them) that the document has not used. */
    private static long unusedClientId(byte[] state) {
        Map<Long, Long> used = YUpdates.decodeStateVector(YUpdates.stateVector(state));
        long id;
        do {
            id = RANDOM.nextLong(1L << 32);
        } while (used.containsKey(id));
        return id;
    }

    private static void badRequest(ServerResponse res, String message) {
        JsonResponses.error(res, Status.BAD_REQUEST_400, "bad-request", message);
    }
}
