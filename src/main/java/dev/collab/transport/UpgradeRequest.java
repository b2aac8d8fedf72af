package dev.collab.transport;

import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;

import java.util.Map;
import java.util.Optional;

/** What a protocol may look at from the HTTP upgrade: decoded path, first value of each query parameter, headers. */
public record UpgradeRequest(String path, Map<String, String> query, Headers headers) {

    public Optional<String> param(String name) {
        return Optional.ofNullable(query.get(name));
    }

    public Optional<String> header(String name) {
        return headers.first(HeaderNames.create(name));
    }
}
