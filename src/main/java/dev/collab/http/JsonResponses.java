package dev.collab.http;

import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;

/** JSON-B (yasson) responses for the HTTP API. */
final class JsonResponses {
    private static final Jsonb JSONB = JsonbBuilder.create();

    private JsonResponses() {
    }

    static void send(ServerResponse res, Status status, Object body) {
        res.status(status).header(HeaderValues.CONTENT_TYPE_JSON).send(JSONB.toJson(body));
    }

    static void error(ServerResponse res, Status status, String code, String message) {
        send(res, status, new ErrorBody(code, message));
    }

    public record ErrorBody(String error, String message) {   // public: yasson cannot read a package-private record
    }
}
