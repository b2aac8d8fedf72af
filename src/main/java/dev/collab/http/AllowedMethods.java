package dev.collab.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * 405 Method Not Allowed, with the {@code Allow} header, for a known path asked with another method (Helidon alone
 * answers 404, which reads as "no such resource"). Registered after a path's own routes; a request with an allowed
 * method that reaches it (passed on by {@code res.next()}) goes on to the next route.
 */
final class AllowedMethods {
    private AllowedMethods() {
    }

    static void register(HttpRules rules, String path, Method... allowed) {
        Set<Method> methods = Set.of(allowed);
        String allow = Arrays.stream(allowed).map(Method::text).collect(Collectors.joining(", "));
        rules.any(path, (req, res) -> {
            Method method = req.prologue().method();
            if (methods.contains(method)) {
                res.next();
                return;
            }
            res.header(HeaderNames.ALLOW, allow);
            JsonResponses.error(res, Status.METHOD_NOT_ALLOWED_405, "method-not-allowed",
                    method.text() + " is not allowed here; use " + allow);
        });
    }
}
