package dev.collab.http;

import io.helidon.http.Method;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Serves docs/openapi.yaml (shipped in the jar) at {@code /openapi.yaml}. */
public final class OpenApiService implements HttpService {
    static final String RESOURCE = "openapi.yaml";
    private final byte[] document;

    public OpenApiService() {
        try (InputStream in = OpenApiService.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath");
            }
            document = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/openapi.yaml", this::serve);
        AllowedMethods.register(rules, "/openapi.yaml", Method.GET);
    }

    private void serve(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/yaml").send(document);
    }
}
