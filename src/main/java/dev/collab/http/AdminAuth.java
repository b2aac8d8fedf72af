package dev.collab.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Checks {@code Authorization: Bearer <admin token>} in constant time; an empty token disables the admin API. */
final class AdminAuth {
    private final byte[] token;

    private final String disabledMessage;

    AdminAuth(String token) {
        this(token, "set COLLAB_ADMIN_TOKEN to enable the admin API");
    }

    AdminAuth(String token, String disabledMessage) {
        this.disabledMessage = disabledMessage;
        this.token = token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8);
    }

    /** True when the request carries the admin token (never true while none is configured); answers nothing. */
    boolean matches(ServerRequest req) {
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        return token.length > 0 && header.startsWith("Bearer ")
                && MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8), token);
    }

    /** True when authorized; otherwise answers 401 (or 503 when no admin token is configured) and returns false. */
    boolean check(ServerRequest req, ServerResponse res) {
        if (token.length == 0) {
            JsonResponses.error(res, Status.SERVICE_UNAVAILABLE_503, "admin-disabled",
                    disabledMessage);
            return false;
        }
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        byte[] presented = header.startsWith("Bearer ")
                ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(presented, token)) {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
            JsonResponses.error(res, Status.UNAUTHORIZED_401, "unauthorized", "a valid admin bearer token is required");
            return false;
        }
        return true;
    }
}
